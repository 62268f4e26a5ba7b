import "reflect-metadata";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import type { GraphQLSchema } from "graphql";
import { DateTimeScalar } from "./scalars";
import { buildSchema } from "type-graphql";
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
    return applyAuthDirective(withAuthDirective(built));
  })());
}

/** The SDL with directive usages (plain printSchema drops them). */
export async function printAppSchema(): Promise<string> {
  return `${printSchemaWithDirectives(await buildAppSchema()).trim()}\n`;
}
