import { Field, Int, ObjectType } from "type-graphql";
import { ProductType } from "./account";
import { Node, PageInfo } from "./common";

@ObjectType("Quota", { implements: Node, description: "Seats shared by some of a brand's products (ORGANIZER+ of the brand or its key)." })
export class QuotaType extends Node {
  // brand, products, available: field resolvers
  @Field() name!: string;
  @Field(() => Int, { description: "Seats; never fewer than sold + held." }) size!: number;
  @Field(() => Int, { description: "Seats in PAID and FULFILLED orders." }) sold!: number;
  @Field(() => Int, { description: "Seats in PENDING orders (released on CANCELLED and EXPIRED)." }) held!: number;
}

@ObjectType("QuotaEdge")
export class QuotaEdge {
  @Field() cursor!: string;
  @Field(() => QuotaType) node!: QuotaType;
}

@ObjectType("QuotaConnection")
export class QuotaConnection {
  @Field(() => [QuotaEdge]) edges!: QuotaEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@ObjectType("AvailabilityEvent", { description: "A product's availability after a change (coalesced: at most 4 per product per second, the last one true)." })
export class AvailabilityEventType {
  @Field(() => ProductType) product!: ProductType;
  @Field(() => Int, { nullable: true, description: "Null: no quota limits the product." }) available!: number | null;
  @Field() at!: Date;
}
