import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { BrandRole, type Brand, type BrandInvitation } from "../entities";
import { BrandMemberType, BrandType } from "../schema/types/account";
import { BrandInvitationType, OkPayload } from "../schema/types/invitation";
import * as invitations from "../services/brand/invitations";
import type { GraphQLContext } from "./context";

@Resolver(() => BrandInvitationType)
export class InvitationResolver {
  @Mutation(() => OkPayload, {
    description:
      "OWNER or ORGANIZER of the brand (an account); only an OWNER invites OWNERs. Emails a single-use link valid 7 days and answers the same whether or not the address has an account or is a member. Inviting the address again replaces its pending invitation. At most 50 a day per caller and 100 a day per brand; at most 100 pending per brand.",
  })
  inviteBrandMember(
    @Ctx() ctx: GraphQLContext,
    @Arg("brandId", () => ID) brandId: string,
    @Arg("email", () => String) email: string,
    @Arg("role", () => BrandRole) role: BrandRole,
  ) {
    return invitations.inviteBrandMember(ctx, brandId, email, role);
  }

  @Mutation(() => BrandMemberType, {
    description:
      "The signed-in account whose email the invitation was sent to (another account: FORBIDDEN). Once: an unknown, used, replaced or expired token is BAD_USER_INPUT on `token`. An existing member keeps the higher of the two roles.",
  })
  acceptBrandInvitation(@Ctx() ctx: GraphQLContext, @Arg("token", () => String) token: string) {
    return invitations.acceptBrandInvitation(ctx, token);
  }

  @Mutation(() => OkPayload, { description: "The caller (an account) stops being a member of the brand. The last OWNER cannot leave (FAILED_PRECONDITION)." })
  leaveBrand(@Ctx() ctx: GraphQLContext, @Arg("brandId", () => ID) brandId: string) {
    return invitations.leaveBrand(ctx, brandId);
  }

  @FieldResolver(() => BrandType)
  brand(@Root() invitation: BrandInvitation) {
    return invitation.brand.load({ dataloader: true });
  }
}

@Resolver(() => BrandType)
export class BrandInvitationsFieldResolver {
  @Directive("@auth(requires: ORGANIZER)")
  @FieldResolver(() => [BrandInvitationType], { description: "ORGANIZER+: pending invitations, oldest first (at most 100: the cap on pending invitations)." })
  invitations(@Ctx() ctx: GraphQLContext, @Root() brand: Brand) {
    return invitations.pendingInvitations(ctx, brand);
  }
}
