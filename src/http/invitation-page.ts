import { Router } from "express";
import { escapeHtml, page } from "./html";

/**
 * `GET /invitations/:token`: the link in a brand invitation email. It tells the invitee how to
 * accept; acceptance itself is the acceptBrandInvitation mutation, made by the signed-in account
 * with the invited email. The page reads nothing from the database, so it says nothing about
 * whether the token is valid (the mutation does, to the invitee).
 */
export function invitationPageRouter(): Router {
  const router = Router();
  router.get("/invitations/:token", (req, res) => {
    const token = req.params.token;
    res.setHeader("Cache-Control", "no-store").setHeader("Referrer-Policy", "no-referrer").type("html");
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) {
      const title = "Link not valid";
      res
        .status(404)
        .send(page(title, `<h1>${title}</h1><p>This invitation link is not valid. Please use the link from the email exactly as it was sent.</p>`));
      return;
    }
    const mutation = `mutation { acceptBrandInvitation(token: "${token}") { role brand { id name } } }`;
    const title = "Join a brand on Orderline";
    res.status(200).send(
      page(
        title,
        `<h1>${title}</h1>
<p>To accept this invitation, sign in (or sign up) with the email address it was sent to, then send this mutation with your token (<code>Authorization: Bearer &lt;token&gt;</code>), for example from GraphiQL at <a href="/graphql">/graphql</a>:</p>
<pre style="white-space:pre-wrap;word-break:break-all">${escapeHtml(mutation)}</pre>
<p class="note">The invitation works once and expires 7 days after it was sent. If you did not expect it, ignore it.</p>`,
      ),
    );
  });
  return router;
}
