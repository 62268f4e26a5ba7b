import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import type { Product, Quota } from "../entities";
import type { AvailabilityMessage } from "../pubsub/availability";
import { CreateQuotaInput, UpdateQuotaInput } from "../schema/inputs";
import { BrandType, ProductType } from "../schema/types/account";
import { AvailabilityEventType, QuotaConnection, QuotaType } from "../schema/types/quota";
import * as live from "../services/capacity/live";
import * as quotas from "../services/capacity/quotas";
import type { GraphQLContext } from "./context";

@Resolver(() => QuotaType)
export class QuotaResolver {
  @Query(() => QuotaType, { nullable: true, description: "ORGANIZER+ of its brand or the brand's key; NOT_FOUND for others." })
  quota(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string) {
    return quotas.getQuota(ctx, id);
  }

  @Query(() => QuotaConnection, { description: "A brand's quotas, newest first (ORGANIZER+ or the brand's key). At most 100 per brand." })
  quotas(
    @Ctx() ctx: GraphQLContext,
    @Arg("brandId", () => ID) brandId: string,
    @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
  ) {
    return quotas.listQuotas(ctx, { brandId, first, after });
  }

  @Mutation(() => QuotaType, {
    description: "ORGANIZER+ or the brand's key. size 0..1,000,000; the products must be the brand's. At most 100 quotas per brand.",
  })
  createQuota(@Ctx() ctx: GraphQLContext, @Arg("input", () => CreateQuotaInput) input: CreateQuotaInput) {
    return quotas.createQuota(ctx, input);
  }

  @Mutation(() => QuotaType, { description: "Changes the given fields; a size below sold + held is refused (BAD_USER_INPUT on input.size)." })
  updateQuota(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string, @Arg("input", () => UpdateQuotaInput) input: UpdateQuotaInput) {
    return quotas.updateQuota(ctx, id, input);
  }

  @FieldResolver(() => Int, { description: "size - sold - held, never below 0." })
  available(@Root() quota: Quota) {
    return quotas.quotaAvailable(quota);
  }

  @FieldResolver(() => BrandType)
  brand(@Root() quota: Quota) {
    return quota.brand.load({ dataloader: true });
  }

  @FieldResolver(() => [ProductType], { description: "Oldest first; at most the brand's 100 products." })
  products(@Ctx() ctx: GraphQLContext, @Root() quota: Quota) {
    return quotas.quotaProducts(ctx, quota);
  }

  @Subscription(() => AvailabilityEventType, {
    description:
      "Public: each product of the brand whose availability changed, after the change commits, from any API instance. Coalesced per product: at most 4 events per second, and the last one carries the value after the last change.",
    subscribe: ({ args, context }) => live.watchAvailability(context as GraphQLContext, args.brandId),
  })
  availabilityChanged(@Ctx() ctx: GraphQLContext, @Root() m: AvailabilityMessage, @Arg("brandId", () => ID) _brandId: string) {
    return live.availabilityEvent(ctx, m);
  }
}

@Resolver(() => ProductType)
export class ProductAvailabilityResolver {
  @FieldResolver(() => Int, { nullable: true, description: "The least room among the quotas that limit it; null when no quota does." })
  available(@Ctx() ctx: GraphQLContext, @Root() product: Product) {
    return quotas.productAvailable(ctx, product);
  }
}
