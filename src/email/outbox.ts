import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../config/env";
import { EmailMessage, OutboxMessage } from "../entities";
import type { Mailer, OutgoingMail } from "./mailer";

/** Without a Postmark token, mail is kept in the database (listed at /dev/mail), never dropped. */
export function outboxMailer(config: Config): Mailer {
  return {
    name: "outbox",
    async send(mail: OutgoingMail, em: EntityManager) {
      const message = new OutboxMessage({
        email: em.getReference(EmailMessage, mail.emailId, { wrapped: true }),
        from: config.mail.from,
        to: mail.to,
        subject: mail.subject,
        textBody: mail.textBody,
        htmlBody: mail.htmlBody,
        attachments: mail.attachments.map((a) => ({ name: a.name, contentType: a.contentType, content: a.content.toString("base64") })),
      });
      em.persist(message);
      return { messageId: `outbox-${message.id}` };
    },
  };
}
