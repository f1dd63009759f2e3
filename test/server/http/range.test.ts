/**
 * @module The byte ranges clients send: `Range` on blob reads and
 * `Content-Range` on upload chunks.
 */
import { describe, expect, test } from "bun:test";
import { RegistryError } from "../../../lib/errors.ts";
import { parseContentRange, parseRange } from "../../../server/http/range.ts";

/** The RegistryError `fn` throws. */
function thrown(fn: () => unknown): RegistryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error("expected a RegistryError, nothing was thrown");
}

describe("parseRange", () => {
  test("no header, or an empty one, means the whole blob", () => {
    expect(parseRange(null, 10)).toBeNull();
    expect(parseRange("", 10)).toBeNull();
  });

  test("a closed range", () => {
    expect(parseRange("bytes=0-4", 10)).toEqual({ start: 0, end: 4 });
    expect(parseRange("bytes=2-2", 10)).toEqual({ start: 2, end: 2 });
    expect(parseRange("bytes=9-9", 10)).toEqual({ start: 9, end: 9 });
    expect(parseRange("bytes=0-9", 10)).toEqual({ start: 0, end: 9 });
  });

  test("an end past the blob is clamped to its last byte", () => {
    expect(parseRange("bytes=3-100", 10)).toEqual({ start: 3, end: 9 });
    expect(parseRange("bytes=0-99999999999999999999", 10)).toEqual({ start: 0, end: 9 });
  });

  test("an open-ended range runs to the end", () => {
    expect(parseRange("bytes=4-", 10)).toEqual({ start: 4, end: 9 });
    expect(parseRange("bytes=0-", 1)).toEqual({ start: 0, end: 0 });
  });

  test("a suffix range takes the last N bytes, all of them when N exceeds the size", () => {
    expect(parseRange("bytes=-3", 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange("bytes=-10", 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange("bytes=-500", 10)).toEqual({ start: 0, end: 9 });
  });

  test("surrounding whitespace is ignored", () => {
    expect(parseRange("  bytes=1-2 ", 10)).toEqual({ start: 1, end: 2 });
  });

  test("forms the server may ignore (other units, several ranges, garbage) give the whole blob", () => {
    for (const header of ["items=0-4", "bytes=0-1,3-4", "bytes=-", "bytes=a-b", "bytes 0-4", "0-4", "bytes=1-2-3", "bytes=+1-2"]) {
      expect({ header, range: parseRange(header, 10) }).toEqual({ header, range: null });
    }
  });

  test("an unsatisfiable range throws RANGE_INVALID carrying the blob size", () => {
    for (const [header, size] of [
      ["bytes=10-", 10],
      ["bytes=10-20", 10],
      ["bytes=100-200", 10],
      ["bytes=5-2", 10],
      ["bytes=-0", 10],
      ["bytes=0-", 0],
      ["bytes=0-0", 0],
      ["bytes=-5", 0],
    ] as const) {
      const error = thrown(() => parseRange(header, size));
      expect({ header, code: error.code, detail: error.detail }).toEqual({ header, code: "RANGE_INVALID", detail: { size } });
    }
  });
});

describe("parseContentRange", () => {
  test("absent means no range", () => {
    expect(parseContentRange(null)).toBeNull();
  });

  test("the spec's a-b form and the HTTP-style variants clients send", () => {
    expect(parseContentRange("0-4")).toEqual({ start: 0, end: 4 });
    expect(parseContentRange("5-5")).toEqual({ start: 5, end: 5 });
    expect(parseContentRange("bytes 0-4")).toEqual({ start: 0, end: 4 });
    expect(parseContentRange("bytes=0-4")).toEqual({ start: 0, end: 4 });
    expect(parseContentRange("bytes 0-4/10")).toEqual({ start: 0, end: 4 });
    expect(parseContentRange("0-4/*")).toEqual({ start: 0, end: 4 });
    expect(parseContentRange(" 10-19 ")).toEqual({ start: 10, end: 19 });
  });

  test("large offsets within 15 digits", () => {
    expect(parseContentRange("1099511627776-1099511627779")).toEqual({ start: 2 ** 40, end: 2 ** 40 + 3 });
  });

  test("a malformed header throws RANGE_INVALID", () => {
    for (const header of ["", "abc", "-4", "0-", "-", "0-4/abc", "bytes=", "1e3-2e3", "0x1-0x2", "0-4,5-9", "1234567890123456-1234567890123457"]) {
      expect({ header, code: thrown(() => parseContentRange(header)).code }).toEqual({ header, code: "RANGE_INVALID" });
    }
  });

  test("a range that ends before it starts throws RANGE_INVALID", () => {
    expect(thrown(() => parseContentRange("5-4")).code).toBe("RANGE_INVALID");
  });
});
