import { randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { dispatchSessionsNotice, onRolesChanged, onSessionsEnded } from "../../src/pubsub/sessions";

describe("dispatchSessionsNotice (payloads of the orderline_sessions channel)", () => {
  const heard: string[] = [];
  const stops = [onSessionsEnded((id) => heard.push(`ended ${id}`)), onRolesChanged((id) => heard.push(`roles ${id}`))];
  afterEach(() => void heard.splice(0));
  afterAll(() => stops.forEach((stop) => stop()));

  it("tells an ended credential from a changed role, ids lowercased", () => {
    const id = randomUUID();
    dispatchSessionsNotice(id.toUpperCase());
    dispatchSessionsNotice(`roles:${id}`);
    expect(heard).toEqual([`ended ${id}`, `roles ${id}`]);
  });

  it("ignores anything else: empty, not a UUID, an unknown prefix, extra text", () => {
    const id = randomUUID();
    for (const payload of [undefined, "", "roles:", "roles:nope", `key:${id}`, `${id} `, `roles:${id}x`, "ROLES:" + id]) dispatchSessionsNotice(payload);
    expect(heard).toEqual([]);
  });
});
