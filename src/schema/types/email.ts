import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { EmailKind, EmailStatus } from "../../entities";

registerEnumType(EmailKind, { name: "EmailKind" });
registerEnumType(EmailStatus, { name: "EmailStatus" });

@ObjectType("Email", { description: "One email to one recipient and what became of it." })
export class EmailType {
  @Field(() => ID) id!: string;
  @Field() recipient!: string;
  @Field(() => EmailKind) kind!: EmailKind;
  @Field(() => EmailStatus) status!: EmailStatus;
  @Field(() => Int, { description: "Delivery attempts so far." }) attempts!: number;
  @Field(() => String, { nullable: true, description: "Postmark's MessageID (or the local outbox id)." }) messageId!: string | null;
  // lastError: field resolver (network details left out)
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
  @Field(() => Date, { nullable: true }) sentAt!: Date | null;
}
