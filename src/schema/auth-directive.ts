import { MapperKind, getDirective, mapSchema } from "@graphql-tools/utils";
import {
  DirectiveLocation,
  GraphQLDirective,
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLNonNull,
  GraphQLSchema,
  defaultFieldResolver,
  type GraphQLFieldConfig,
} from "graphql";
import { Role } from "../entities/enums";
import { AppError, ErrorCode } from "../errors";
import type { Viewer } from "../services/auth/viewer";
import { decide, type Grant, type Subject } from "../services/access/ladder";
import type { OrderView } from "../services/order/order.repository";
import type { TicketView } from "../services/checkin/ticket.repository";

export const RoleEnum = new GraphQLEnumType({
  name: "Role",
  description:
    "The ladder @auth checks against: USER (the customer an object belongs to) < COORGANIZER < ORGANIZER < OWNER < ADMIN. A brand API key counts as ORGANIZER of its brand.",
  values: Object.fromEntries(Object.values(Role).map((r) => [r, { value: r }])),
});

export const authDirective = new GraphQLDirective({
  name: "auth",
  description: "Only callers holding at least this role over the object (its brand, or its customer for USER) may read the field; others get FORBIDDEN.",
  locations: [DirectiveLocation.FIELD_DEFINITION, DirectiveLocation.OBJECT],
  args: {
    requires: { type: new GraphQLNonNull(RoleEnum) },
    orCustomer: {
      type: new GraphQLNonNull(GraphQLBoolean),
      defaultValue: false,
      description: "The object's customer may read it too, whatever `requires` says (e.g. the coupon code they typed).",
    },
  },
});

/**
 * How to find the brand and the customer of each object type that carries @auth. A type or a
 * field with @auth on a type missing here fails schema construction (fail closed).
 */
// A parent is whatever the type's resolvers return: for Order always an OrderView (queries and
// mutations alike go through order.repository.ts's one mapping); entities for the others.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type SubjectOf = (parent: any) => Subject;
const ref = (r: { id: string } | null | undefined) => r?.id ?? null;
export const AUTH_SUBJECTS: Record<string, SubjectOf> = {
  Order: (o: OrderView) => ({ brandId: o.brandId, ownerId: o.customerId }),
  Brand: (b) => ({ brandId: b.id }),
  Discount: (d) => ({ brandId: ref(d.brand) }),
  Fan: (f) => ({ brandId: ref(f.brand) }),
  Ticket: (t: TicketView) => ({ brandId: t.brandId, ownerId: t.customerId }),
};

/**
 * Enforces `@auth(requires: Role)` from the schema itself: every field that carries it (or whose
 * type carries it) gets its resolver wrapped with the check, so the printed SDL is the single
 * source of truth for field-level rules. The check is the access module's (src/services/access):
 * the same ladder and the same decision as the services' permissions, read from the directive's
 * arguments instead of the access table.
 */
export function applyAuthDirective(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const type = schema.getType(typeName)!;
      const rule = (getDirective(schema, field, "auth")?.[0] ?? getDirective(schema, type as never, "auth")?.[0]) as
        { requires?: Role; orCustomer?: boolean } | undefined;
      const required = rule?.requires;
      if (!required) return field;
      const subjectOf = AUTH_SUBJECTS[typeName];
      if (!subjectOf) throw new Error(`@auth on ${typeName}.${fieldName}, but ${typeName} has no entry in AUTH_SUBJECTS`);
      return guard(field, { role: required, customer: rule.orCustomer === true }, subjectOf, `${typeName}.${fieldName}`);
    },
  });
}

type AuthContext = { viewer: Viewer };

function guard(
  field: GraphQLFieldConfig<unknown, AuthContext>,
  grant: Grant,
  subjectOf: SubjectOf,
  coordinate: string,
): GraphQLFieldConfig<unknown, AuthContext> {
  const resolve = field.resolve ?? defaultFieldResolver;
  return {
    ...field,
    resolve(parent, args, ctx, info) {
      // The parent was already shown to the caller, so a refusal is FORBIDDEN, never NOT_FOUND.
      // orCustomer: the customer counts even when they are also a brand member with a lower role.
      if (decide(ctx.viewer, grant, subjectOf(parent)) !== "ok") {
        throw new AppError(ErrorCode.FORBIDDEN, `Reading ${coordinate} needs the ${grant.role} role`, { requires: grant.role });
      }
      return resolve(parent, args, ctx, info);
    },
  };
}

/** Adds the directive (and its Role enum) to a schema built by type-graphql. */
export function withAuthDirective(schema: GraphQLSchema): GraphQLSchema {
  const config = schema.toConfig();
  return new GraphQLSchema({
    ...config,
    types: [...config.types.filter((t) => t.name !== "Role"), RoleEnum],
    directives: [...config.directives.filter((d) => d.name !== "auth"), authDirective],
  });
}
