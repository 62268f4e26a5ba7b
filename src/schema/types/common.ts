import { Field, ID, InterfaceType, ObjectType, registerEnumType } from "type-graphql";
import { BrandRole, OrderStatus, PaymentAttemptStatus } from "../../entities/enums";

// Role is not registered here: it exists only as the argument type of @auth (see auth-directive.ts).
registerEnumType(BrandRole, { name: "BrandRole", description: "A member's role in a brand: OWNER > ORGANIZER > COORGANIZER." });
registerEnumType(OrderStatus, { name: "OrderStatus" });
registerEnumType(PaymentAttemptStatus, { name: "PaymentAttemptStatus" });

@InterfaceType({ description: "An object with an opaque, globally unique id." })
export abstract class Node {
  @Field(() => ID)
  id!: string;
}

@ObjectType({ description: "Relay page information." })
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field() hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true }) startCursor!: string | null;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}
