import { describe, expect, it } from "vitest";
import { BOM, csvCell, csvRow } from "../../src/services/export/csv";

// Issue #16: RFC 4180 cells (CRLF, quotes) and CSV injection neutralised.

describe("csvCell", () => {
  it("quotes cells with a comma, a quote, CR or LF, doubling quotes", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell("Smith, Jr")).toBe('"Smith, Jr"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell("cr\rhere")).toBe('"cr\rhere"');
  });

  it("neutralises cells that a spreadsheet would run as a formula", () => {
    expect(csvCell('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvCell("+1 555")).toBe("'+1 555");
    expect(csvCell("-2+3")).toBe("'-2+3");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("\tcmd")).toBe("'\tcmd");
    expect(csvCell("\r=1")).toBe(`"'\r=1"`);
    expect(csvCell("a=b")).toBe("a=b");
  });

  it("writes numbers and the export's own decimals as numbers, null as empty", () => {
    expect(csvCell(-3)).toBe("-3");
    expect(csvCell({ decimal: "-12.50" })).toBe("-12.50");
    expect(csvCell({ decimal: "=1" })).toBe("'=1");
    expect(csvCell(null)).toBe("");
  });

  it("ends each record with CRLF; the BOM is U+FEFF", () => {
    expect(csvRow(["a", "b,c", 1])).toBe('a,"b,c",1\r\n');
    expect(Buffer.from(BOM, "utf8")).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });
});
