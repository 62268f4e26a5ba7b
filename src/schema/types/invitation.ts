import { Field, ID, ObjectType } from "type-graphql";
import { BrandRole } from "../../entities/enums";

@ObjectType("OkPayload", { description: "The operation was taken in; tells nothing more on purpose." })
export class OkPayload {
  @Field() ok!: boolean;
}

@ObjectType("BrandInvitation", { description: "A pending invitation to join a brand (inviteBrandMember)." })
export class BrandInvitationType {
  @Field(() => ID) id!: string;
  // brand: field resolver
  @Field({ description: "The invited address, lowercased." }) email!: string;
  @Field(() => BrandRole) role!: BrandRole;
  @Field({ description: "After this the link no longer works (7 days after it was sent)." }) expiresAt!: Date;
}
