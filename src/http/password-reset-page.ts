import { Router } from "express";
import { page } from "./html";

/**
 * `GET /password-reset/:token`: the link in a password reset email. A form for the new password
 * that calls the resetPassword mutation from the browser (the token is read from the address, not
 * written into the page). The page reads nothing from the database, so it says nothing about
 * whether the token is valid: the mutation answers that, to whoever holds the link.
 */
export function passwordResetPageRouter(): Router {
  const router = Router();
  router.get("/password-reset/:token", (req, res) => {
    res.setHeader("Cache-Control", "no-store").setHeader("Referrer-Policy", "no-referrer").type("html");
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(req.params.token)) {
      const title = "Link not valid";
      res.status(404).send(page(title, `<h1>${title}</h1><p>This link is not valid. Please use the link from the email exactly as it was sent.</p>`));
      return;
    }
    const title = "Choose a new password";
    res.status(200).send(
      page(
        title,
        `<h1>${title}</h1>
<form id="reset">
<p><label>New password (10 to 200 characters)<br><input id="password" type="password" autocomplete="new-password" minlength="10" maxlength="200" required></label></p>
<p><button type="submit" class="pay">Set the new password</button></p>
</form>
<p id="outcome" role="status"></p>
<p class="note">The link works once and expires 1 hour after it was sent. Setting a new password signs you out everywhere.</p>
<script>
const form = document.getElementById("reset");
const outcome = document.getElementById("outcome");
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const token = decodeURIComponent(location.pathname.split("/").pop());
  const password = document.getElementById("password").value;
  outcome.textContent = "Saving…";
  try {
    const res = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "mutation ($token: String!, $password: String!) { resetPassword(token: $token, password: $password) { token } }", variables: { token, password } }),
    });
    const body = await res.json();
    const error = body.errors && body.errors[0];
    if (error) {
      outcome.textContent = error.extensions && error.extensions.field === "token" ? "This link is not valid any more: ask for a new one." : error.message;
      return;
    }
    form.remove();
    outcome.innerHTML = 'Your password is set. <a href="/admin/">Sign in</a> with it.';
  } catch {
    outcome.textContent = "Could not reach the server; please try again.";
  }
});
</script>`,
      ),
    );
  });
  return router;
}
