import { Directive, Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { CheckInOutcome } from "../../services/checkin/checkin";
import { TicketStatus } from "../../services/checkin/ticket.repository";
import { Node } from "./common";

registerEnumType(TicketStatus, { name: "TicketStatus", description: "VOID: its order was refunded or cancelled (is not PAID or FULFILLED)." });
registerEnumType(CheckInOutcome, { name: "CheckInOutcome" });

@ObjectType("Ticket", { implements: Node, description: "One admitted person of a paid order, as its tickets PDF prints them." })
export class TicketType extends Node {
  // order, product: field resolvers
  @Field() holderName!: string;
  @Directive("@auth(requires: COORGANIZER, orCustomer: true)")
  @Field({ description: "What the QR encodes: the order's owner and COORGANIZER+ only." })
  code!: string;
  @Field(() => TicketStatus) status!: TicketStatus;
  @Field(() => Date, { nullable: true, description: "The first scan's time." }) checkedInAt!: Date | null;
}

@ObjectType("CheckInResult", { description: "UNKNOWN (a forged or malformed code, or another brand's) carries no ticket and no time." })
export class CheckInResultType {
  @Field(() => CheckInOutcome) outcome!: CheckInOutcome;
  @Field(() => TicketType, { nullable: true }) ticket!: TicketType | null;
  @Field(() => Date, { nullable: true, description: "OK: now; ALREADY_CHECKED_IN: the first scan's time." }) checkedInAt!: Date | null;
}

@ObjectType("CheckInStats")
export class CheckInStatsType {
  // brand: field resolver
  @Field(() => Int, { description: "Tickets of the brand's PAID and FULFILLED orders." }) tickets!: number;
  @Field(() => Int, { description: "How many of them are checked in." }) checkedIn!: number;
}

@ObjectType("CheckInEvent")
export class CheckInEventType {
  @Field(() => TicketType) ticket!: TicketType;
  @Field(() => CheckInStatsType) stats!: CheckInStatsType;
  @Field() at!: Date;
}
