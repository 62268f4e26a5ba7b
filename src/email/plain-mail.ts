import type { EmailMessage } from "../entities";
import { escapeHtml } from "../http/html";
import type { OutgoingMail } from "./mailer";

/**
 * A plain message: the text as written (paragraphs split by a blank line) and the same text as
 * HTML, with `link`, where it appears, made clickable. The invitation, password-reset and
 * refund emails are this shape; `attachments` are added as they are.
 */
export function plainMail(
  email: Pick<EmailMessage, "id" | "recipient">,
  tag: string,
  subject: string,
  text: string,
  link: string | null,
  attachments: OutgoingMail["attachments"] = [],
): OutgoingMail {
  const linked = (html: string) => (link ? html.replace(escapeHtml(link), `<a href="${escapeHtml(link)}">${escapeHtml(link)}</a>`) : html);
  const paragraphs = text.split("\n\n").map((p) => `<p>${linked(escapeHtml(p).replace(/\n/g, "<br>"))}</p>`);
  return {
    to: email.recipient,
    emailId: email.id,
    tag,
    subject,
    textBody: text,
    htmlBody: `<!doctype html><html><body style="font-family:system-ui,sans-serif">${paragraphs.join("")}</body></html>`,
    attachments,
  };
}
