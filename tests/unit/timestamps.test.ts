import pg from "pg";
import { describe, expect, it } from "vitest";
import { parseTimestamptz, readPoolTypes } from "../../src/db/timestamps";

const pgDefault = pg.types.getTypeParser(1184, "text") as (s: string) => Date;

describe("parseTimestamptz (the read pool's timestamptz parser)", () => {
  const samples = [
    "2026-11-21 22:00:31.50491+00",
    "2026-11-21 22:00:31.504+00",
    "2026-11-21 22:00:31.5+00",
    "2026-11-21 22:00:31.999999+00",
    "2026-11-21 22:00:31.000001+00",
    "2026-11-21 22:00:31+00",
    "2026-01-01 00:00:00+00",
    "2026-11-21 22:00:31.50491+05:30",
    "2026-11-21 22:00:31.5-03",
    "2024-02-29 23:59:59.999-11:45",
    "1970-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
  ];

  it.each(samples)("reads %s as pg's default parser does", (s) => {
    const ours = parseTimestamptz(s);
    expect(ours).toBeInstanceOf(Date);
    expect(ours.toISOString()).toBe(pgDefault(s).toISOString());
  });

  it("hands anything else to the default parser", () => {
    const seen: string[] = [];
    const fallback = (s: string) => (seen.push(s), new Date(0));
    for (const s of [
      "infinity",
      "-infinity",
      "0044-03-15 12:00:00+00 BC",
      "0099-01-01 00:00:00+00",
      "2026-11-21 22:00:31+05:30:15",
      "2026-11-21T22:00:31Z",
      "2026-11-21 22:00:3x+00",
    ]) {
      expect(parseTimestamptz(s, fallback)).toEqual(new Date(0));
    }
    expect(seen).toHaveLength(7);
  });

  it("is what the read pool's type overrides use for timestamptz, and only for it", () => {
    const types = readPoolTypes();
    expect(types.getTypeParser(1184, "text")("2026-11-21 22:00:31.50491+00")).toEqual(new Date("2026-11-21T22:00:31.504Z"));
    expect(types.getTypeParser(1114, "text")).toBe(pg.types.getTypeParser(1114, "text"));
  });
});
