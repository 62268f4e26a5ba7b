import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../../config/env";
import { Brand, BrandInvitation, type EmailMessage } from "../../entities";
import type { OutgoingMail } from "../../email/mailer";
import { plainMail } from "../../email/plain-mail";
import { sha256 } from "../auth/tokens";
import { invitationToken } from "./invitations";

/**
 * The invitation link, rebuilt from the random part the email carries. Nothing is sent when the
 * invitation was accepted, or replaced by a newer one (its row is gone or holds another token).
 */
export async function composeInvitationEmail(em: EntityManager, email: EmailMessage, config: Config): Promise<OutgoingMail | null> {
  const { invitationId, nonce } = email.data;
  if (typeof invitationId !== "string" || typeof nonce !== "string") return null;
  const invitation = await em.findOne(BrandInvitation, invitationId);
  const token = invitationToken(config.authSecret, nonce);
  if (!invitation || invitation.acceptedAt || invitation.tokenHash !== sha256(token)) return null;
  const brand = await em.findOneOrFail(Brand, invitation.brand.id);
  const link = `${config.publicUrl}/invitations/${token}`;
  const text = [
    "Hello,",
    "",
    `you are invited to join ${brand.name} on Orderline as ${invitation.role}. To accept, sign in (or sign up) with this email address, ${invitation.email}, and follow this link:`,
    link,
    "",
    "The link works once and expires in 7 days. If you did not expect this invitation, ignore this email.",
  ].join("\n");
  return plainMail(email, "brand-invitation", `You are invited to join ${brand.name}`, text, link);
}
