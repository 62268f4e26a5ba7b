// "Forgot password?" under the sign-in form: asks requestPasswordReset for the typed address. The
// answer is the same whether or not the address has an account, and so is what the board says.
import { ApiError, gql } from "./api";
import { byId, isBusy, setBusy, show } from "./dom";
import { BoardRequestPasswordResetDocument } from "./generated";
import { announce, describeError, rateLimitText } from "./messages";

export function setupForgotPassword(loginEmail: HTMLInputElement): void {
  const link = byId<HTMLAnchorElement>("forgot-link");
  const form = byId<HTMLFormElement>("forgot-form");
  const email = byId<HTMLInputElement>("forgot-email");
  const button = byId<HTMLButtonElement>("forgot-send");
  link.addEventListener("click", (event) => {
    event.preventDefault();
    show(form, true);
    email.value = loginEmail.value.trim();
    email.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (isBusy(button)) return;
    setBusy(button, true);
    try {
      await gql(BoardRequestPasswordResetDocument, { email: email.value.trim() }, { anonymous: true });
      announce(`If ${email.value.trim()} has an account, a link to choose a new password is on its way (valid 1 hour).`, "info");
      show(form, false);
    } catch (err) {
      if (err instanceof ApiError && err.code === "RATE_LIMITED") announce(rateLimitText(err, "password reset requests"), "error");
      else announce(describeError(err, "request a password reset link"), "error");
    } finally {
      setBusy(button, false);
    }
  });
}
