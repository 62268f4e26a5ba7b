import "reflect-metadata";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { Arg, Authorized, Ctx, Field, FieldResolver, Info, Int, ObjectType, Query, Resolver, Root, UseMiddleware, buildSchema } from "type-graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { typeGraphQLMetadata, type TypeGraphQLMetadata } from "../../src/schema/type-graphql-internals";

// src/schema/type-graphql-internals.ts reads type-graphql's undocumented metadata storage for
// build.ts (plain fields, direct field resolvers). These tests pin what it relies on, so that a
// type-graphql upgrade fails here, in one place, rather than silently slowing or breaking fields.

interface ProbeRoot {
  plain: string;
}

@ObjectType("ProbeThing")
class ProbeThing {
  @Field(() => String) plain!: string;
  @Field(() => String, { name: "renamed" }) inner!: string;
  @Field(() => String) @UseMiddleware((_data, next) => next()) watched!: string;
  @Field(() => String) @Authorized() guarded!: string;
  @Field(() => String) greet(@Arg("name", () => String) name: string): string {
    return `hi ${name}`;
  }
}

@Resolver(() => ProbeThing)
class ProbeThingResolver {
  @Query(() => ProbeThing)
  probe(): ProbeThing {
    return new ProbeThing();
  }

  @FieldResolver(() => Int)
  simple(@Root() root: ProbeRoot, @Ctx() ctx: unknown, @Info() info: unknown): number {
    return [root, ctx, info].length;
  }

  @FieldResolver(() => Int)
  picky(@Root("plain") plain: string, @Ctx("user") user: unknown, @Arg("n", () => Int) n: number): number {
    return [plain, user].length + n;
  }
}

let meta: TypeGraphQLMetadata;
beforeAll(async () => {
  // Building completes the metadata (type-graphql sets each field resolver's object type then).
  await buildSchema({ resolvers: [ProbeThingResolver], validate: false, authChecker: () => true });
  meta = typeGraphQLMetadata();
});

describe("type-graphql internals (src/schema/type-graphql-internals.ts)", () => {
  it("is the pinned type-graphql version: on an upgrade, check these tests and the wrapper first", () => {
    const pkg = join(__dirname, "..", "..", "node_modules", "type-graphql", "package.json");
    expect(JSON.parse(readFileSync(pkg, "utf8")).version).toBe("2.0.0-rc.4");
  });

  it("reads object types and their fields: renames, middlewares, roles, arguments", () => {
    const thing = meta.objectTypes.find((t) => t.name === "ProbeThing");
    expect(thing?.target).toBe(ProbeThing);
    const fields = Object.fromEntries(thing!.fields.map((f) => [f.schemaName, f]));
    expect(fields.plain).toEqual({ name: "plain", schemaName: "plain", hasMiddlewares: false, hasRoles: false, hasParams: false });
    expect(fields.renamed).toMatchObject({ name: "inner", schemaName: "renamed" });
    expect(fields.watched).toMatchObject({ hasMiddlewares: true, hasRoles: false });
    expect(fields.guarded).toMatchObject({ hasMiddlewares: false, hasRoles: true });
    expect(fields.greet).toMatchObject({ hasParams: true });
  });

  it("reads field resolvers: kind, object type and parameters by position", () => {
    const of = (name: string) => meta.fieldResolvers.find((fr) => fr.target === ProbeThingResolver && fr.methodName === name);
    expect(of("simple")).toMatchObject({ schemaName: "simple", kind: "external", objectType: ProbeThing, hasMiddlewares: false, hasRoles: false });
    expect(of("simple")!.params).toEqual([
      { index: 0, kind: "root", propertyName: undefined, rootType: Object },
      { index: 1, kind: "context", propertyName: undefined, rootType: undefined },
      { index: 2, kind: "info", propertyName: undefined, rootType: undefined },
    ]);
    expect(of("picky")!.params.map((p) => [p.index, p.kind, p.propertyName])).toEqual([
      [0, "root", "plain"],
      [1, "context", "user"],
      [2, "arg", undefined],
    ]);
    const greet = meta.fieldResolvers.find((fr) => fr.target === ProbeThing && fr.methodName === "greet");
    expect(greet).toMatchObject({ kind: "internal", objectType: ProbeThing });
  });

  it("fails loudly, naming the piece, when the storage's shape changes", () => {
    const storage = { objectTypes: [], interfaceTypes: [], fieldResolvers: [], params: [] };
    expect(() => typeGraphQLMetadata(storage)).not.toThrow();
    expect(() => typeGraphQLMetadata({ ...storage, fieldResolvers: undefined })).toThrow(/metadata storage changed shape: fieldResolvers is not an array/);
    expect(() => typeGraphQLMetadata({ ...storage, objectTypes: [{ name: "X", target: class {}, fields: [{ name: "a" }] }] })).toThrow(
      /objectTypes\[0\]\.fields\[0\]\.schemaName is not a string/,
    );
    expect(() => typeGraphQLMetadata({ ...storage, fieldResolvers: [{ kind: "method", target: class {}, methodName: "m", schemaName: "m" }] })).toThrow(
      /fieldResolvers\[0\]\.kind is "method"/,
    );
    expect(() => typeGraphQLMetadata({ ...storage, params: [{ target: class {}, methodName: "m", kind: "root" }] })).not.toThrow(); // params are read per field resolver
    const resolver = class {};
    expect(() =>
      typeGraphQLMetadata({
        ...storage,
        fieldResolvers: [{ kind: "external", target: resolver, methodName: "m", schemaName: "m" }],
        params: [{ target: resolver, methodName: "m", kind: "root" }],
      }),
    ).toThrow(/params\[0\]\.index is not a number/);
  });
});
