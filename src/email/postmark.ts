import { ServerClient } from "postmark";
import { Errors } from "postmark";
import type { Config } from "../config/env";
import { MailError, type Mailer, type OutgoingMail } from "./mailer";

/** Client-side timeout, well under Postmark's own 60 s. */
export const POSTMARK_TIMEOUT_SECONDS = 10;

/** Postmark ErrorCodes that mean the recipient itself is unusable. */
const INVALID_ADDRESS = 300;
const INACTIVE_RECIPIENT = 406;
const BAD_TOKEN = 10;

export function postmarkMailer(config: Config): Mailer {
  const url = new URL(config.mail.postmarkApiUrl);
  const client = new ServerClient(config.mail.postmarkServerToken!, {
    requestHost: url.host,
    useHttps: url.protocol === "https:",
    timeout: POSTMARK_TIMEOUT_SECONDS,
  });
  return {
    name: "postmark",
    async send(mail: OutgoingMail) {
      try {
        const res = await client.sendEmail({
          From: config.mail.from,
          To: mail.to,
          Subject: mail.subject,
          TextBody: mail.textBody,
          HtmlBody: mail.htmlBody,
          MessageStream: "outbound",
          Tag: mail.tag,
          Metadata: { emailId: mail.emailId },
          Attachments: mail.attachments.map((a) => ({
            Name: a.name,
            Content: a.content.toString("base64"),
            ContentType: a.contentType,
            ContentID: null,
          })),
        });
        return { messageId: res.MessageID };
      } catch (e) {
        throw classify(e);
      }
    },
  };
}

/** Maps the postmark client's errors onto what we do about them. */
export function classify(e: unknown): MailError {
  if (!(e instanceof Errors.PostmarkError)) return new MailError("retry", `network error: ${(e as Error)?.message ?? e}`);
  const { statusCode, code, message } = e;
  const text = `Postmark ${statusCode || "(no response)"}${code ? ` ErrorCode ${code}` : ""}: ${message}`;
  if (statusCode === 401 || code === BAD_TOKEN) return new MailError("config", text, statusCode, code);
  if (statusCode === 422 && (code === INVALID_ADDRESS || code === INACTIVE_RECIPIENT)) return new MailError("reject", text, statusCode, code);
  if (!statusCode || statusCode === 429 || statusCode >= 500) return new MailError("retry", text, statusCode, code);
  return new MailError("config", text, statusCode, code);
}
