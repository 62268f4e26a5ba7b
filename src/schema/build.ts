import "reflect-metadata";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import type { GraphQLSchema } from "graphql";
import { DateTimeScalar } from "./scalars";
import { MapperKind, mapSchema } from "@graphql-tools/utils";
import { buildSchema, getMetadataStorage } from "type-graphql";
import { pubSub } from "../pubsub/local";
import { RESOLVERS } from "../resolvers";
import { applyAuthDirective, withAuthDirective } from "./auth-directive";

let cached: Promise<GraphQLSchema> | undefined;

/** The executable schema: type-graphql classes + the @auth directive enforced from the SDL. Built once. */
export function buildAppSchema(): Promise<GraphQLSchema> {
  return (cached ??= (async () => {
    const built = await buildSchema({
      resolvers: RESOLVERS,
      scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
      validate: false, // rules live in the services, which name the offending field
      emitSchemaFile: false,
      pubSub,
    });
    return applyAuthDirective(withAuthDirective(withPlainFields(built)));
  })());
}

/**
 * type-graphql gives every field a wrapper resolver (for middlewares we do not use on plain fields).
 * Fields that only read a property get graphql's default resolution back, which graphql-jit turns
 * into inline property reads. Fields with resolver methods, middlewares, roles, arguments or a
 * different property name keep theirs. (@auth is applied afterwards and wraps what it needs.)
 */
function withPlainFields(schema: GraphQLSchema): GraphQLSchema {
  const storage = getMetadataStorage();
  const resolved = new Set(storage.fieldResolvers.map((fr) => `${fr.getObjectType?.()?.name}|${fr.schemaName}`));
  const plain = new Set<string>();
  for (const type of storage.objectTypes) {
    for (const f of type.fields ?? []) {
      const simple = !resolved.has(`${type.target.name}|${f.schemaName}`) && !f.middlewares?.length && !f.roles && !f.params?.length && f.name === f.schemaName;
      if (simple) plain.add(`${type.name}.${f.schemaName}`);
    }
  }
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => (plain.has(`${typeName}.${fieldName}`) ? { ...field, resolve: undefined } : field),
  });
}

/** The SDL with directive usages (plain printSchema drops them). */
export async function printAppSchema(): Promise<string> {
  return `${printSchemaWithDirectives(await buildAppSchema()).trim()}\n`;
}
