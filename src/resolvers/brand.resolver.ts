import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { BrandRole, type ApiKey, type Brand, type BrandMember, type Product } from "../entities";
import { ApiKeyPayload, ApiKeyType, BrandMemberType, BrandType, ProductType, UserType } from "../schema/types/account";
import { CreateBrandInput, CreateProductInput, UpdateBrandInput } from "../schema/inputs";
import * as brands from "../services/brand/brands";
import { RateLimit } from "../rate-limit/decorator";
import { CREATE_BRAND, CREATE_PRODUCT } from "../rate-limit/rules";
import type { GraphQLContext } from "./context";

@Resolver(() => BrandType)
export class BrandResolver {
  @Query(() => [BrandType], {
    description:
      "The brands the caller works for (its own for a brand key), oldest first. An account belongs to at most 100 brands; ADMIN gets the newest 100 of all.",
  })
  brands(@Ctx() ctx: GraphQLContext) {
    return brands.listBrands(ctx);
  }

  @Query(() => BrandType, { nullable: true, description: "A brand's public face (name, currency, products), for shops." })
  brand(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string) {
    return brands.getBrand(ctx, id);
  }

  @Mutation(() => BrandType, { description: "The caller becomes its OWNER. At most 10 per hour per account and 30 per client IP (IPv6 by /64)." })
  @RateLimit(...CREATE_BRAND)
  createBrand(@Ctx() ctx: GraphQLContext, @Arg("input", () => CreateBrandInput) input: CreateBrandInput) {
    return brands.createBrand(ctx, input);
  }

  @Mutation(() => BrandMemberType, {
    description:
      "Platform ADMIN only: adds (or changes the role of) the account with this email, without asking it. Brand members invite instead (inviteBrandMember).",
  })
  addBrandMember(
    @Ctx() ctx: GraphQLContext,
    @Arg("brandId", () => ID) brandId: string,
    @Arg("email", () => String) email: string,
    @Arg("role", () => BrandRole) role: BrandRole,
  ) {
    return brands.addBrandMember(ctx, brandId, email, role);
  }

  @Mutation(() => ApiKeyPayload, { description: "OWNER. The secret is shown once." })
  createApiKey(@Ctx() ctx: GraphQLContext, @Arg("brandId", () => ID) brandId: string) {
    return brands.createApiKey(ctx, brandId);
  }

  @Mutation(() => ApiKeyType, {
    description:
      "OWNER of the key's brand (an account). The key stops working at once, on every instance; sockets opened with it close with 4403. Revoking a revoked key changes nothing.",
  })
  revokeApiKey(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string) {
    return brands.revokeApiKey(ctx, id);
  }

  @Mutation(() => BrandType, { description: 'ORGANIZER+: rename, or set / remove ("") the coupon or order webhook URL.' })
  updateBrand(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string, @Arg("input", () => UpdateBrandInput) input: UpdateBrandInput) {
    return brands.updateBrand(ctx, id, input);
  }

  @Mutation(() => BrandType, { description: "OWNER: a new webhookSecret for coupon webhooks; the old one stops verifying at once." })
  rotateWebhookSecret(@Ctx() ctx: GraphQLContext, @Arg("brandId", () => ID) brandId: string) {
    return brands.rotateWebhookSecret(ctx, brandId);
  }

  @Mutation(() => ProductType, {
    description:
      "ORGANIZER+ or the brand's key. Priced in the brand's currency. At most 300 per hour per account, 1,000 per brand API key, 1,000 per client IP (IPv6 by /64; not for keys).",
  })
  @RateLimit(...CREATE_PRODUCT)
  createProduct(@Ctx() ctx: GraphQLContext, @Arg("input", () => CreateProductInput) input: CreateProductInput) {
    return brands.createProduct(ctx, input);
  }

  @Directive("@auth(requires: COORGANIZER)")
  @FieldResolver(() => [BrandMemberType], { description: "COORGANIZER+ of the brand. At most 100 (addBrandMember refuses more)." })
  members(@Root() brand: Brand) {
    return brands.brandMembers(brand);
  }

  @FieldResolver(() => [ProductType], { description: "Oldest first. At most 100 (createProduct refuses more)." })
  products(@Root() brand: Brand) {
    return brands.brandProducts(brand);
  }

  @Directive("@auth(requires: OWNER)")
  @FieldResolver(() => [ApiKeyType], { description: "OWNER: the brand's newest 50 API keys, oldest first, revoked ones included (never their secrets)." })
  apiKeys(@Root() brand: Brand) {
    return brands.brandApiKeys(brand);
  }
}

@Resolver(() => ApiKeyType)
export class ApiKeyFieldsResolver {
  @FieldResolver(() => UserType, { nullable: true, description: "The account that created it; null when a platform ADMIN did (shown to ADMINs only)." })
  createdBy(@Ctx() ctx: GraphQLContext, @Root() key: ApiKey) {
    return brands.apiKeyCreator(ctx, key);
  }
}

@Resolver(() => BrandMemberType)
export class BrandMemberFieldsResolver {
  @FieldResolver(() => UserType)
  user(@Root() member: BrandMember) {
    return member.user.load({ dataloader: true });
  }

  @FieldResolver(() => BrandType)
  brand(@Root() member: BrandMember) {
    return member.brand.load({ dataloader: true });
  }
}

@Resolver(() => ProductType)
export class ProductFieldsResolver {
  @FieldResolver(() => BrandType)
  brand(@Root() product: Product) {
    return product.brand.load({ dataloader: true });
  }
}
