import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { InvoiceKind } from "../../entities/enums";

registerEnumType(InvoiceKind, { name: "InvoiceKind" });

@ObjectType("TaxLine", { description: "One tax rate's part of an invoice or credit note, in minor units." })
export class TaxLineType {
  @Field(() => Int, { description: "Basis points (1900 = 19 %)." }) rate!: number;
  @Field(() => Int) net!: number;
  @Field(() => Int) tax!: number;
}

@ObjectType("Invoice", { description: "An invoice (when the order was paid) or a credit note (for a refund), numbered from the brand's gapless sequence." })
export class InvoiceType {
  @Field({ description: '"{invoicePrefix}-{000001}": consecutive per brand, invoices and credit notes alike.' }) number!: string;
  @Field(() => InvoiceKind) kind!: InvoiceKind;
  @Field() issuedAt!: Date;
  @Field(() => Int, { description: "Gross, tax included; positive for credit notes too." }) total!: number;
  @Field(() => Int) taxTotal!: number;
  @Field() currency!: string;
  @Field(() => [TaxLineType], { description: "One per tax rate, ascending: at most 8 (an order uses at most 8 rates)." }) taxLines!: TaxLineType[];
}
