/**
 * @module The bench's command line: flags, quick sizes, and the usage
 * errors a typo gets instead of a half-run benchmark.
 */
import { describe, expect, test } from "bun:test";
import { fullSizes, parseOptions, quickSizes } from "../../bench/lib/options.ts";

describe("parseOptions", () => {
  test("defaults run everything at full size against every target in both modes", () => {
    const opts = parseOptions([]);
    expect(opts.only).toEqual(["push", "pull", "requests", "images", "lists"]);
    expect(opts.targets).toEqual(["mcr-src", "mcr-w2", "mcr-bin", "distribution", "bun-bare"]);
    expect(opts.modes).toEqual(["auth", "anon"]);
    expect(opts.sizes).toEqual(fullSizes);
    expect(opts.sizes.blobBytes).toBe(2 ** 30);
  });

  test("--quick, --json, --only, --targets, --modes, --blob-mib and --binary", () => {
    const opts = parseOptions(["--quick", "--json", "--only", "push,lists", "--targets=mcr-src,distribution", "--modes", "anon", "--blob-mib", "64", "--binary", "/x/mcr"]);
    expect(opts.quick).toBe(true);
    expect(opts.json).toBe(true);
    expect(opts.only).toEqual(["push", "lists"]);
    expect(opts.targets).toEqual(["mcr-src", "distribution"]);
    expect(opts.modes).toEqual(["anon"]);
    expect(opts.sizes).toEqual({ ...quickSizes, blobBytes: 64 * 2 ** 20 });
    expect(opts.binary).toBe("/x/mcr");
  });

  test("unknown workloads, targets and flags are refused with the usage", () => {
    expect(() => parseOptions(["--only", "push,pul"])).toThrow(/unknown "pul"/);
    expect(() => parseOptions(["--targets", "zot"])).toThrow(/unknown "zot"/);
    expect(() => parseOptions(["--fast"])).toThrow(/unknown option --fast/);
    expect(() => parseOptions(["--blob-mib", "1.5"])).toThrow(/whole number/);
  });
});
