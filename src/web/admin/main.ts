// The admin order board at /admin: log in, choose a brand, watch its orders change live, fulfil
// and resend confirmations. Plain TypeScript and DOM; a pure client of the public GraphQL API.
import "./style.css";
import { ApiError, gql, session } from "./api";
import { watchAvailability } from "./availability";
import { startCheckIn, toggleCheckIn } from "./checkin";
import { Board, type Brand } from "./board";
import { byId, h, isBusy, setBusy, show } from "./dom";
import { BoardLogInDocument, BoardStartDocument } from "./generated";
import { setupForgotPassword } from "./forgot-password";
import { mountSearch } from "./search";
import { announce, clearMessage, describeError, isUnauthenticated, rateLimitText, type Tone } from "./messages";

const BRAND_KEY = "orderline.board.brand";

const loginView = byId("login-view");
const boardView = byId("board-view");
const starting = byId("starting");
const account = byId("account");
const brandSelect = byId<HTMLSelectElement>("brand");
const loginForm = byId<HTMLFormElement>("login-form");
const emailInput = byId<HTMLInputElement>("email");
const passwordInput = byId<HTMLInputElement>("password");
const loginButton = byId<HTMLButtonElement>("log-in");
setupForgotPassword(emailInput);

let board: Board | null = null;
let stopAvailability: (() => void) | null = null;
let stopCheckIn: (() => void) | null = null;
let brands: Brand[] = [];

function view(which: "starting" | "login" | "board"): void {
  show(starting, which === "starting");
  show(loginView, which === "login");
  show(boardView, which === "board");
  show(account, which === "board");
}

function showLogin(message?: string, tone: Tone = "info"): void {
  board?.stop();
  board = null;
  stopAvailability?.();
  stopAvailability = null;
  stopCheckIn?.();
  stopCheckIn = null;
  view("login");
  if (message) announce(message, tone);
  emailInput.focus();
}

/** An expired, revoked or invalid token: back to the form, saying why. */
function sessionOver(): void {
  if (loginView.hidden === false) return;
  session.clear();
  showLogin("Your session has expired or is no longer valid — please log in again.", "error");
}

function openBrand(brand: Brand): void {
  board?.stop();
  localStorage.setItem(BRAND_KEY, brand.id);
  document.title = `${brand.name} · Order board · Orderline`;
  const token = session.token;
  if (!token) return sessionOver();
  board = new Board(token, brand, sessionOver);
  board.start();
  stopAvailability?.();
  stopAvailability = watchAvailability(brand.id);
  stopCheckIn?.();
  stopCheckIn = checkInOpen() ? startCheckIn(token, brand.id, sessionOver) : null;
}

/** The check-in view has its own socket, opened only while the view is shown. */
const checkInOpen = () => !byId("checkin").hidden;

/** With a token: who am I, which brands, then the remembered (or first) brand's board. */
async function enter(): Promise<void> {
  view("starting");
  byId("starting-text").textContent = "Loading…";
  show(byId("retry"), false);
  let data;
  try {
    data = await gql(BoardStartDocument, {});
  } catch (err) {
    if (isUnauthenticated(err)) return sessionOver();
    byId("starting-text").textContent = describeError(err, "load your brands");
    show(byId("retry"), true);
    return;
  }
  if (!data.me.user) return sessionOver();
  byId("account-email").textContent = data.me.user.email;
  brands = data.brands;
  view("board");
  const remembered = localStorage.getItem(BRAND_KEY);
  brandSelect.replaceChildren(...brands.map((b) => h("option", { value: b.id }, b.name)));
  show(byId("brand-field"), brands.length > 0);
  if (!brands.length) {
    show(byId("orders-wrap"), false);
    show(byId("load-more"), false);
    byId("orders-note").textContent = "This account does not work for any brand yet: ask a brand's owner to add you.";
    return;
  }
  const brand = brands.find((b) => b.id === remembered) ?? brands[0];
  brandSelect.value = brand.id;
  openBrand(brand);
  brandSelect.focus();
}

loginForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (isBusy(loginButton)) return;
  setBusy(loginButton, true);
  clearMessage();
  try {
    const { logIn } = await gql(BoardLogInDocument, { email: emailInput.value.trim(), password: passwordInput.value }, { anonymous: true });
    session.save(logIn.token);
    passwordInput.value = "";
    await enter();
  } catch (err) {
    if (isUnauthenticated(err)) announce("Wrong email or password.", "error");
    else if (err instanceof ApiError && err.code === "RATE_LIMITED") announce(rateLimitText(err, "log-in attempts"), "error");
    else announce(describeError(err, "log in"), "error");
    passwordInput.focus();
  } finally {
    setBusy(loginButton, false);
  }
});

byId("log-out").addEventListener("click", () => {
  session.clear();
  showLogin("You are logged out.", "info");
});

brandSelect.addEventListener("change", () => {
  const brand = brands.find((b) => b.id === brandSelect.value);
  if (brand) openBrand(brand);
});

byId("reload").addEventListener("click", async () => {
  if (!board) return;
  if (board.liveStopped) board.startLive();
  if (await board.reload()) announce("Orders reloaded", "info");
});

byId("checkin-toggle").addEventListener("click", () => {
  toggleCheckIn();
  stopCheckIn?.();
  stopCheckIn = null;
  const brand = brands.find((b) => b.id === brandSelect.value);
  if (checkInOpen() && brand && session.token) stopCheckIn = startCheckIn(session.token, brand.id, sessionOver);
});
byId("load-more").addEventListener("click", () => void board?.loadMore());
mountSearch(
  () => void board?.reload(),
  () => brandSelect.value || null,
);
byId("retry").addEventListener("click", () => void enter());

if (session.token) void enter();
else showLogin();
