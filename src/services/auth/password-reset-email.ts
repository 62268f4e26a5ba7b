import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../../config/env";
import { PasswordReset, type EmailMessage } from "../../entities";
import type { OutgoingMail } from "../../email/mailer";
import { plainMail } from "../../email/plain-mail";
import { findAccountByEmail } from "./accounts";
import { passwordResetToken } from "./password-reset";
import { sha256 } from "./tokens";

/**
 * The reset link, rebuilt from the random part the email carries. Here, in the job, and not in
 * requestPasswordReset, is where the account is looked up: nothing is sent to an address without
 * an account, nor for a reset that was used, replaced by a newer one, or has expired.
 */
export async function composePasswordResetEmail(em: EntityManager, email: EmailMessage, config: Config): Promise<OutgoingMail | null> {
  const { resetId, nonce } = email.data;
  if (typeof resetId !== "string" || typeof nonce !== "string") return null;
  const reset = await em.findOne(PasswordReset, resetId);
  const token = passwordResetToken(config.authSecret, nonce);
  if (!reset || reset.usedAt || reset.expiresAt.getTime() <= Date.now() || reset.tokenHash !== sha256(token)) return null;
  if (!(await findAccountByEmail(em, reset.email))) return null;
  const link = `${config.publicUrl}/password-reset/${token}`;
  const text = [
    "Hello,",
    "",
    "someone (we hope you) asked to reset the password of your Orderline account. To choose a new password, follow this link:",
    link,
    "",
    "The link works once and expires in 1 hour. Setting a new password signs you out everywhere. If you did not ask for this, ignore this email: your password stays as it is.",
  ].join("\n");
  return plainMail(email, "password-reset", "Reset your Orderline password", text, link);
}
