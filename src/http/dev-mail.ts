import type { MikroORM } from "@mikro-orm/postgresql";
import { Router } from "express";
import { OutboxMessage } from "../entities";
import { isUuid } from "../services/pagination";
import { escapeHtml, page } from "./html";

const LIST_LIMIT = 100;

/**
 * `/dev/mail` (development only): the local outbox, where mail goes when no Postmark token is
 * configured — newest first, each message readable with its attachments downloadable.
 */
export function devMailRouter(orm: MikroORM): Router {
  const router = Router();

  router.get("/dev/mail", async (_req, res) => {
    const messages = await orm.em.fork().find(OutboxMessage, {}, { orderBy: { createdAt: "desc", id: "desc" }, limit: LIST_LIMIT });
    const rows = messages
      .map(
        (m) => `<tr><td>${escapeHtml(m.createdAt.toISOString().replace("T", " ").slice(0, 19))}</td><td>${escapeHtml(m.to)}</td>
<td><a href="/dev/mail/${m.id}">${escapeHtml(m.subject)}</a></td><td>${m.attachments.length}</td></tr>`,
      )
      .join("\n");
    res.type("html").send(
      page(
        "Outbox",
        `<h1>Outbox</h1>
<p class="note">Mail kept locally because POSTMARK_SERVER_TOKEN is not set (newest ${LIST_LIMIT}).</p>
<table><thead><tr><th scope="col">Queued (UTC)</th><th scope="col">To</th><th scope="col">Subject</th><th scope="col">Attachments</th></tr></thead>
<tbody>${rows || '<tr><td colspan="4">No mail yet.</td></tr>'}</tbody></table>`,
      ),
    );
  });

  router.get("/dev/mail/:id", async (req, res) => {
    const m = isUuid(req.params.id) ? await orm.em.fork().findOne(OutboxMessage, req.params.id) : null;
    if (!m) {
      res.status(404).type("html").send(page("Not found", "<h1>No such message</h1>"));
      return;
    }
    const files = m.attachments
      .map((a, i) => `<li><a href="/dev/mail/${m.id}/attachments/${i}">${escapeHtml(a.name)}</a> (${escapeHtml(a.contentType)})</li>`)
      .join("");
    res.type("html").send(
      page(
        m.subject,
        `<p><a href="/dev/mail">← Outbox</a></p><h1>${escapeHtml(m.subject)}</h1>
<table><tr><th scope="row">From</th><td>${escapeHtml(m.from)}</td></tr><tr><th scope="row">To</th><td>${escapeHtml(m.to)}</td></tr></table>
<pre style="white-space:pre-wrap">${escapeHtml(m.textBody)}</pre>${files ? `<h2>Attachments</h2><ul>${files}</ul>` : ""}`,
      ),
    );
  });

  router.get("/dev/mail/:id/attachments/:index", async (req, res) => {
    const m = isUuid(req.params.id) ? await orm.em.fork().findOne(OutboxMessage, req.params.id) : null;
    const a = m?.attachments[Number(req.params.index)];
    if (!a) {
      res.status(404).json({ error: "not found" });
      return;
    }
    res.type(a.contentType).setHeader("Content-Disposition", `inline; filename="${a.name.replace(/[^\w.-]/g, "_")}"`);
    res.send(Buffer.from(a.content, "base64"));
  });

  return router;
}
