import { Arg, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from "type-graphql";
import type { User } from "../entities";
import { AuthPayload, BrandMemberType, UserType, ViewerType } from "../schema/types/account";
import { SignUpInput } from "../schema/inputs";
import * as accounts from "../services/auth/accounts";
import { userMemberships } from "../services/brand/brands";
import { RateLimit, perIp } from "../rate-limit/decorator";
import type { GraphQLContext } from "./context";

@Resolver()
export class AuthResolver {
  @Query(() => ViewerType, { description: "Who is calling." })
  me(@Ctx() ctx: GraphQLContext) {
    return accounts.viewerInfo(ctx);
  }

  @Mutation(() => AuthPayload, {
    description: "With an anonymous session's token, the session becomes the account and keeps its orders. At most 30 sign-ups per minute per client IP.",
  })
  @RateLimit({ scope: "ip", per: perIp, max: 30, window: "1m" })
  signUp(@Ctx() ctx: GraphQLContext, @Arg("input", () => SignUpInput) input: SignUpInput) {
    return accounts.signUp(ctx, input);
  }

  @Mutation(() => AuthPayload, {
    description:
      "A wrong password and an unknown email give the same UNAUTHENTICATED error. At most 30 attempts per minute per client IP (IPv6 by /64). Only failures count further: 10 per 15 minutes per client IP and email, 20 per 10 minutes per client IP; once an email has 50 failures in an hour, addresses that failed for it in the last 15 minutes are refused, others still get in.",
  })
  @RateLimit({ scope: "ip", per: perIp, max: 30, window: "1m" })
  logIn(@Ctx() ctx: GraphQLContext, @Arg("email", () => String) email: string, @Arg("password", () => String) password: string) {
    return accounts.logIn(ctx, email, password);
  }

  @Mutation(() => AuthPayload, {
    description: "A token for a customer who has not signed up. At most 120 per minute per client IP (generous: a venue's visitors may share one address).",
  })
  @RateLimit({ scope: "ip", per: perIp, max: 120, window: "1m" })
  startAnonymousSession(@Ctx() ctx: GraphQLContext) {
    return accounts.startAnonymousSession(ctx);
  }

  @Mutation(() => Boolean, {
    description:
      "Ends every session of the signed-in account or anonymous session: all its tokens stop working on every instance, and sockets opened with them close with 4403. Log in again for a new token. FORBIDDEN for a brand API key.",
  })
  logOutEverywhere(@Ctx() ctx: GraphQLContext) {
    return accounts.logOutEverywhere(ctx);
  }
}

@Resolver(() => UserType)
export class UserFieldsResolver {
  @FieldResolver(() => [BrandMemberType], { description: "Visible to the user themself and to ADMIN. An account belongs to at most 100 brands." })
  memberships(@Ctx() ctx: GraphQLContext, @Root() user: User) {
    return userMemberships(ctx, user.id);
  }
}
