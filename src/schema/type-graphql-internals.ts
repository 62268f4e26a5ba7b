import { getMetadataStorage } from "type-graphql";

/**
 * The one place that reads type-graphql's metadata storage. `getMetadataStorage()` is exported but
 * undocumented: its shape is type-graphql's internal business and may change in any release (we pin
 * 2.0.0-rc.4). build.ts needs it to tell plain fields and simple field resolver methods apart, and
 * type-graphql has no public way to ask that. Everything build.ts uses is copied here into plain
 * typed records, and any missing or changed piece throws at schema build, naming what changed
 * (tests/unit/type-graphql-internals.test.ts checks the same on every run).
 */

/** A class as type-graphql keys its metadata: the constructor itself. */
export type ClassRef = abstract new (...args: never[]) => unknown;

export interface FieldMeta {
  /** The property name on the class. */
  name: string;
  /** The GraphQL field name (differs when the decorator renames it). */
  schemaName: string;
  hasMiddlewares: boolean;
  /** @Authorized (any roles array, even an empty one). */
  hasRoles: boolean;
  hasParams: boolean;
}

export interface TypeClassMeta {
  /** The GraphQL type name. */
  name: string;
  target: ClassRef;
  fields: FieldMeta[];
}

export interface ParamMeta {
  index: number;
  kind: string;
  /** `@Root("x")` / `@Ctx("x")` pick a property; undefined for the whole value. */
  propertyName: string | undefined;
  /** For a whole `@Root()`: its declared type (Object when none was given, as type-graphql does); else undefined. */
  rootType: unknown;
}

export interface FieldResolverMeta {
  /** The resolver class and method. */
  target: ClassRef;
  methodName: string;
  schemaName: string;
  /** "external": a method of a @Resolver(of => X) class; "internal": a getter or method on the type class. */
  kind: "internal" | "external";
  /** The object type class it resolves a field of (undefined when type-graphql does not know). */
  objectType: ClassRef | undefined;
  hasMiddlewares: boolean;
  hasRoles: boolean;
  /** The method's parameters, by position. */
  params: ParamMeta[];
}

export interface TypeGraphQLMetadata {
  objectTypes: TypeClassMeta[];
  interfaceTypes: TypeClassMeta[];
  fieldResolvers: FieldResolverMeta[];
}

/** The metadata of every decorated class loaded so far, checked and copied. `storage` is for tests. */
export function typeGraphQLMetadata(storage: unknown = getMetadataStorage()): TypeGraphQLMetadata {
  const s = record(storage, "getMetadataStorage()");
  const params = list(s.params, "params").map((p, i) => record(p, `params[${i}]`));
  return {
    objectTypes: list(s.objectTypes, "objectTypes").map((t, i) => typeClass(t, `objectTypes[${i}]`)),
    interfaceTypes: list(s.interfaceTypes, "interfaceTypes").map((t, i) => typeClass(t, `interfaceTypes[${i}]`)),
    fieldResolvers: list(s.fieldResolvers, "fieldResolvers").map((fr, i) => {
      const where = `fieldResolvers[${i}]`;
      const r = record(fr, where);
      const target = classRef(r.target, `${where}.target`);
      const methodName = str(r.methodName, `${where}.methodName`);
      if (r.kind !== "internal" && r.kind !== "external") fail(`${where}.kind is ${JSON.stringify(r.kind)}, not "internal" or "external"`);
      const getObjectType = optionalFunction(r.getObjectType, `${where}.getObjectType`);
      const objectType = getObjectType?.();
      return {
        target,
        methodName,
        schemaName: str(r.schemaName, `${where}.schemaName`),
        kind: r.kind,
        objectType: objectType === undefined ? undefined : classRef(objectType, `${where}.getObjectType()`),
        hasMiddlewares: nonEmpty(r.middlewares, `${where}.middlewares`),
        hasRoles: present(r.roles, `${where}.roles`),
        params: params
          .map((p, j) => ({ p, where: `params[${j}]` }))
          .filter(({ p }) => p.target === target && p.methodName === methodName)
          .map(({ p, where }) => param(p, where))
          .sort((a, b) => a.index - b.index),
      };
    }),
  };
}

function typeClass(value: unknown, where: string): TypeClassMeta {
  const t = record(value, where);
  return {
    name: str(t.name, `${where}.name`),
    target: classRef(t.target, `${where}.target`),
    fields: t.fields === undefined ? [] : list(t.fields, `${where}.fields`).map((f, i) => field(f, `${where}.fields[${i}]`)),
  };
}

function field(value: unknown, where: string): FieldMeta {
  const f = record(value, where);
  return {
    name: str(f.name, `${where}.name`),
    schemaName: str(f.schemaName, `${where}.schemaName`),
    hasMiddlewares: nonEmpty(f.middlewares, `${where}.middlewares`),
    hasRoles: present(f.roles, `${where}.roles`),
    hasParams: nonEmpty(f.params, `${where}.params`),
  };
}

function param(p: Record<string, unknown>, where: string): ParamMeta {
  const index = p.index;
  if (typeof index !== "number") fail(`${where}.index is not a number`);
  const kind = str(p.kind, `${where}.kind`);
  const propertyName = p.propertyName == null ? undefined : str(p.propertyName, `${where}.propertyName`);
  const getType = kind === "root" && !propertyName ? optionalFunction(p.getType, `${where}.getType`) : undefined;
  return { index, kind, propertyName, rootType: kind === "root" && !propertyName ? (getType ? getType() : Object) : undefined };
}

function fail(what: string): never {
  throw new Error(
    `type-graphql's metadata storage changed shape: ${what}. src/schema/type-graphql-internals.ts reads it for build.ts ` +
      "(plain fields, direct field resolvers); adapt it to the installed type-graphql.",
  );
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null) fail(`${where} is not an object`);
  return value as Record<string, unknown>;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) fail(`${where} is not an array`);
  return value;
}

/** An optional array: whether it is there (even empty). */
function present(value: unknown, where: string): boolean {
  return value != null && list(value, where) !== null;
}

/** An optional array: whether it has entries. */
function nonEmpty(value: unknown, where: string): boolean {
  return value != null && list(value, where).length > 0;
}

function str(value: unknown, where: string): string {
  if (typeof value !== "string") fail(`${where} is not a string`);
  return value;
}

function classRef(value: unknown, where: string): ClassRef {
  if (typeof value !== "function") fail(`${where} is not a class`);
  return value as ClassRef;
}

function optionalFunction(value: unknown, where: string): (() => unknown) | undefined {
  if (value !== undefined && typeof value !== "function") fail(`${where} is not a function`);
  return value as (() => unknown) | undefined;
}
