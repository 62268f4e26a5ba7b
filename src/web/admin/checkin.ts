// The check-in view: a field a USB barcode scanner types into (it "types" the code and presses
// Enter), the outcome large and in words as well as colour, the holder's name, and the door's live
// count (checkInStats once, then checkInsChanged over its own graphql-ws socket; a reconnect
// reloads the count, since check-ins may have been missed).
import "./checkin.css";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import { ApiError, gql, wsUrl } from "./api";
import { byId, h, show } from "./dom";
import { BoardCheckInDocument, BoardCheckInStatsDocument, BoardCheckInsDocument, type BoardCheckInMutation, type BoardCheckInsSubscription } from "./generated";
import { describeError, isUnauthenticated, rateLimitText } from "./messages";

type Result = BoardCheckInMutation["checkIn"];

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** What the door sees for each outcome: a headline in words, and a tone (colour + icon). */
function describe(r: Result): { tone: string; icon: string; title: string; detail: string } {
  switch (r.outcome) {
    case "OK":
      return { tone: "ok", icon: "✓", title: "OK — let in", detail: r.ticket?.holderName ?? "" };
    case "ALREADY_CHECKED_IN":
      return {
        tone: "warn",
        icon: "!",
        title: "Already checked in",
        detail: `${r.ticket?.holderName ?? ""} — first scanned at ${r.checkedInAt ? time(r.checkedInAt) : "?"}`,
      };
    case "VOID":
      return { tone: "stop", icon: "✕", title: "VOID — do not let in", detail: `${r.ticket?.holderName ?? ""} — the order was refunded or cancelled` };
    default:
      return { tone: "stop", icon: "?", title: "UNKNOWN — not a ticket of this brand", detail: "Forged, mistyped or another event's code" };
  }
}

/** Starts the check-in view of a brand; returns the function that stops it. */
export function startCheckIn(token: string, brandId: string, sessionOver: () => void): () => void {
  const section = byId("checkin");
  const form = byId<HTMLFormElement>("checkin-form");
  const input = byId<HTMLInputElement>("checkin-code");
  const result = byId("checkin-result");
  const countText = byId("checkin-count");
  let stopped = false;
  let busy = false;

  const showCount = (s: { tickets: number; checkedIn: number }) => {
    countText.textContent = `${s.checkedIn} of ${s.tickets} checked in`;
  };
  const loadCount = async () => {
    try {
      const { checkInStats } = await gql(BoardCheckInStatsDocument, { brandId });
      if (!stopped) showCount(checkInStats);
    } catch {
      // The count stays as it was; scanning does not depend on it.
    }
  };

  const render = (tone: string, icon: string, title: string, detail: string, outcome: string) => {
    result.dataset.outcome = outcome;
    result.className = `checkin-result tone-${tone}`;
    result.replaceChildren(
      h("span", { class: "icon", "aria-hidden": "true" }, icon),
      h("strong", { class: "title" }, title),
      h("span", { class: "detail" }, detail),
    );
  };

  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const code = input.value.trim();
    input.value = ""; // ready for the next scan at once
    input.focus();
    if (!code || busy) return;
    busy = true;
    try {
      const { checkIn } = await gql(BoardCheckInDocument, { brandId, code });
      const d = describe(checkIn);
      render(d.tone, d.icon, d.title, d.detail, checkIn.outcome);
    } catch (err) {
      if (isUnauthenticated(err)) return sessionOver();
      const text = err instanceof ApiError && err.code === "RATE_LIMITED" ? rateLimitText(err, "scans") : describeError(err, "check this ticket in");
      render("stop", "✕", "Not checked — try again", text, "ERROR");
    } finally {
      busy = false;
      input.focus();
    }
  };
  form.addEventListener("submit", onSubmit);
  // A click anywhere in the view (e.g. on the result) gives the field back to the scanner.
  const refocus = () => input.focus();
  section.addEventListener("click", refocus);

  const client = createClient({
    url: wsUrl(),
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: Infinity,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, 15_000))),
    on: { connected: () => void loadCount() },
  });
  const unsubscribe = client.subscribe<BoardCheckInsSubscription>(
    { query: print(BoardCheckInsDocument), variables: { brandId } },
    { next: ({ data }) => data && !stopped && showCount(data.checkInsChanged.stats), error: () => undefined, complete: () => undefined },
  );
  void loadCount();

  return () => {
    stopped = true;
    form.removeEventListener("submit", onSubmit);
    section.removeEventListener("click", refocus);
    unsubscribe();
    void client.dispose();
  };
}

/** The toolbar's "Check-in" toggle: shows the view and gives its field the focus. */
export function toggleCheckIn(open?: boolean): void {
  const section = byId("checkin");
  const button = byId("checkin-toggle");
  const visible = open ?? section.hidden;
  show(section, visible);
  button.setAttribute("aria-pressed", String(visible));
  if (visible) byId<HTMLInputElement>("checkin-code").focus();
}
