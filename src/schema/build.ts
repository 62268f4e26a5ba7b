import "reflect-metadata";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import { DateTimeScalar } from "./scalars";
import { MapperKind, mapSchema } from "@graphql-tools/utils";
import { buildSchema, type BuildSchemaOptions } from "type-graphql";
import { pubSub } from "../pubsub/local";
import { RESOLVERS } from "../resolvers";
import { applyAuthDirective, withAuthDirective } from "./auth-directive";
import { typeGraphQLMetadata, type ClassRef } from "./type-graphql-internals";
import { withDeadlineChecks } from "../http/deadline";

let cached: Promise<GraphQLSchema> | undefined;

/** The executable schema: type-graphql classes + the @auth directive enforced from the SDL. Built once. */
export function buildAppSchema(): Promise<GraphQLSchema> {
  return (cached ??= (async () => {
    const options: BuildSchemaOptions = {
      resolvers: RESOLVERS,
      scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
      validate: false, // rules live in the services, which name the offending field
      emitSchemaFile: false,
      pubSub,
    };
    // Direct field resolvers (below) skip type-graphql's handler, so they would skip these too.
    if (options.globalMiddlewares?.length || options.authChecker)
      throw new Error("global middlewares or an authChecker need type-graphql's handler on every field");
    const built = await buildSchema(options);
    return withDeadlineChecks(applyAuthDirective(withAuthDirective(withDirectFieldResolvers(withPlainFields(built)))));
  })());
}

/**
 * type-graphql gives every field a wrapper resolver (for middlewares we do not use on plain fields).
 * Fields that only read a property get graphql's default resolution back, which graphql-jit turns
 * into inline property reads. Fields with resolver methods, middlewares, roles, arguments or a
 * different property name keep theirs. (@auth is applied afterwards and wraps what it needs.)
 */
function withPlainFields(schema: GraphQLSchema): GraphQLSchema {
  const storage = typeGraphQLMetadata();
  const resolved = new Set(storage.fieldResolvers.map((fr) => `${fr.objectType?.name}|${fr.schemaName}`));
  const classOf = new Map([...storage.objectTypes, ...storage.interfaceTypes].map((t) => [t.name, t.target.name]));
  const plain = new Set<string>();
  for (const type of [...storage.objectTypes, ...storage.interfaceTypes]) {
    for (const f of type.fields ?? []) {
      const simple = !resolved.has(`${type.target.name}|${f.schemaName}`) && !f.hasMiddlewares && !f.hasRoles && !f.hasParams && f.name === f.schemaName;
      if (simple) plain.add(`${type.name}.${f.schemaName}`);
    }
  }
  // A field an object type inherits from an interface (e.g. Node.id) is plain when it is plain there
  // and the object type neither resolves nor declares it itself (its own declaration may rename it
  // or carry middlewares: that one decides, above).
  const declared = new Set(storage.objectTypes.flatMap((t) => (t.fields ?? []).map((f) => `${t.name}.${f.schemaName}`)));
  const isPlain = (typeName: string, fieldName: string) => {
    if (plain.has(`${typeName}.${fieldName}`)) return true;
    const type = schema.getType(typeName);
    if (!isObjectType(type) || declared.has(`${typeName}.${fieldName}`) || resolved.has(`${classOf.get(typeName)}|${fieldName}`)) return false;
    return type.getInterfaces().some((i) => plain.has(`${i.name}.${fieldName}`));
  };
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => (isPlain(typeName, fieldName) ? { ...field, resolve: undefined } : field),
  });
}

/**
 * type-graphql runs every resolver method through a generic handler (container lookup, middleware
 * chain, parameters re-sorted and mapped on each call). Field resolver methods that take only
 * `@Root()`, `@Ctx()` and `@Info()`, with no middlewares or roles, are called directly instead:
 * on a page of 50 orders that is 100+ calls per request. Methods with arguments keep type-graphql's
 * handler (it converts and validates them).
 */
function withDirectFieldResolvers(schema: GraphQLSchema): GraphQLSchema {
  const storage = typeGraphQLMetadata();
  const typeNameOf = new Map<ClassRef | undefined, string>(storage.objectTypes.map((t) => [t.target, t.name]));
  const instances = new Map<ClassRef, Record<string, Method>>();
  const direct = new Map<string, GraphQLFieldResolver<unknown, unknown>>();
  for (const fr of storage.fieldResolvers) {
    const typeName = typeNameOf.get(fr.objectType);
    if (fr.kind !== "external" || !typeName || fr.hasMiddlewares || fr.hasRoles) continue;
    const params = fr.params;
    // 0: the parent object, 2: the context, 3: info (graphql's resolver argument positions)
    const slots = params.map((p): Slot | -1 => {
      if (p.kind === "root" && !p.propertyName && p.rootType === Object) return 0;
      if (p.kind === "context" && !p.propertyName) return 2;
      if (p.kind === "info") return 3;
      return -1;
    });
    if (slots.some((slot, i) => slot === -1 || params[i].index !== i)) continue;
    let instance = instances.get(fr.target);
    if (!instance) instances.set(fr.target, (instance = new (fr.target as new () => Record<string, Method>)()));
    const method = instance[fr.methodName].bind(instance);
    direct.set(`${typeName}.${fr.schemaName}`, directCall(method, slots as Slot[]));
  }
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const resolve = direct.get(`${typeName}.${fieldName}`);
      return resolve ? { ...field, resolve } : field;
    },
  });
}

type Slot = 0 | 2 | 3;
type Method = (...args: unknown[]) => unknown;
const pick = (slot: Slot, root: unknown, ctx: unknown, info: unknown) => (slot === 0 ? root : slot === 2 ? ctx : info);

function directCall(method: Method, slots: Slot[]): GraphQLFieldResolver<unknown, unknown> {
  const [a, b] = slots;
  if (slots.length === 0) return () => method();
  if (slots.length === 1) return (root, _args, ctx, info) => method(pick(a, root, ctx, info));
  if (slots.length === 2) return (root, _args, ctx, info) => method(pick(a, root, ctx, info), pick(b, root, ctx, info));
  return (root, _args, ctx, info) => method(...slots.map((slot) => pick(slot, root, ctx, info)));
}

/** The SDL with directive usages (plain printSchema drops them). */
export async function printAppSchema(): Promise<string> {
  return `${printSchemaWithDirectives(await buildAppSchema()).trim()}\n`;
}
