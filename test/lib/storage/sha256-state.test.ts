/**
 * @module The savable SHA-256: a state saved at any split and restored in
 * a fresh hasher gives the digest of the whole, and foreign states are
 * refused rather than misread.
 */
import { describe, expect, test } from "bun:test";
import { newSha256, restoreSha256, sha256Savable } from "../../../lib/storage/sha256-state.ts";

const data = new Uint8Array(200_003).map((_, i) => (i * 31 + (i >> 8)) & 255);
const whole = new Bun.CryptoHasher("sha256").update(data).digest("hex");

describe("sha256-state", () => {
  test("libcrypto is found on Linux, so states travel between processes", () => {
    expect(sha256Savable()).toBe(true);
  });

  test("saved at odd splits (mid-block, on subarrays) and restored, it gives the whole digest", () => {
    for (const split of [0, 1, 63, 64, 65, 1000, 99_999, data.length]) {
      const first = newSha256().update(data.subarray(0, split)) as ReturnType<typeof newSha256>;
      const saved = first.save();
      expect(saved).not.toBeNull();
      const second = restoreSha256(saved)!;
      second.update(data.subarray(split, split + 7));
      second.update(data.subarray(split + 7));
      expect(second.digest("hex")).toBe(whole);
    }
  });

  test("digest leaves the state going on", () => {
    const h = newSha256();
    h.update(data.subarray(0, 10));
    h.digest("hex");
    h.update(data.subarray(10));
    expect(h.digest("hex")).toBe(whole);
  });

  test("a state of another format, length or hash is refused", () => {
    expect(restoreSha256(null)).toBeNull();
    expect(restoreSha256("wasm1:AAAA")).toBeNull();
    expect(restoreSha256("ossl1:" + Buffer.alloc(50).toString("base64"))).toBeNull();
    expect(restoreSha256("ossl1:" + Buffer.alloc(112).toString("base64"))).toBeNull();
  });
});
