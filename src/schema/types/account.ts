import { Directive, Field, ID, Int, ObjectType } from "type-graphql";
import { BrandRole } from "../../entities/enums";
import { Node } from "./common";

@ObjectType("User", { implements: Node })
export class UserType extends Node {
  @Field() email!: string;
  @Field(() => String, { nullable: true }) name!: string | null;
  @Field() isAdmin!: boolean;
  // memberships: field resolver
}

@ObjectType("Viewer", { description: "Who is calling: an account, an anonymous session, a brand key or nobody." })
export class ViewerType {
  @Field(() => UserType, { nullable: true }) user!: UserType | null;
  @Field({ description: "True for an anonymous session." }) anonymous!: boolean;
  @Field(() => ID, { nullable: true, description: "The brand a brand API key acts for." }) apiKeyBrandId?: string | null;
}

@ObjectType("AuthPayload")
export class AuthPayload {
  @Field({ description: "Send as `Authorization: Bearer <token>`." }) token!: string;
  @Field(() => UserType, { nullable: true, description: "Null for an anonymous session." }) user!: UserType | null;
}

@ObjectType("Brand", { implements: Node })
export class BrandType extends Node {
  @Field() name!: string;
  @Field({ description: "ISO 4217 code; all prices of the brand are in it." }) currency!: string;
  // members, products: field resolvers
  @Field({ description: 'Invoice numbers are "{invoicePrefix}-{000001}". Only an OWNER changes it.' }) invoicePrefix!: string;
  @Directive("@auth(requires: ORGANIZER)")
  @Field(() => String, { nullable: true, description: "Where issued coupons are POSTed (ORGANIZER+)." })
  couponWebhookUrl!: string | null;
  @Directive("@auth(requires: ORGANIZER)")
  @Field(() => String, { nullable: true, description: "Where order events (order.paid, order.fulfilled, ...) are POSTed (ORGANIZER+)." })
  orderWebhookUrl!: string | null;
  @Directive("@auth(requires: OWNER)")
  @Field(() => String, { nullable: true, description: "Verifies the Orderline-Signature of coupon and order webhooks (OWNER only)." })
  webhookSecret!: string | null;
}

@ObjectType("BrandMember")
export class BrandMemberType {
  // user, brand: field resolvers
  @Field(() => BrandRole) role!: BrandRole;
}

@ObjectType("ApiKeyPayload")
export class ApiKeyPayload {
  @Field(() => ID) id!: string;
  @Field({ description: "Send as `X-API-Key`. Shown only once; only a hash is stored." }) secret!: string;
}

@ObjectType("ApiKey", { description: "A brand's server-to-server key. Its secret was shown once, when it was created." })
export class ApiKeyType {
  @Field(() => ID) id!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true, description: "When it was revoked (it stopped working then); null while it works." })
  revokedAt!: Date | null;
  // createdBy: field resolver
}

@ObjectType("Product", { implements: Node })
export class ProductType extends Node {
  @Field() name!: string;
  @Field(() => Int, { description: "Minor units of `currency`." }) unitPrice!: number;
  @Field() currency!: string;
  @Field(() => Int, { description: "Basis points (1900 = 19 %); prices include tax." }) taxRate!: number;
}
