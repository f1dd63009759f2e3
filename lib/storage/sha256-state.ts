/**
 * @module SHA-256 whose running state can be saved after a chunk and
 * restored by another process, so an upload continues on whichever worker
 * or replica receives its next chunk without re-reading what it holds.
 *
 * Bun.CryptoHasher cannot export its state. The system's libcrypto can:
 * its SHA256_CTX is a plain 112-byte struct we own, updated in place
 * through bun:ffi at the same speed (SHA-NI or AVX2 in both), whereas a
 * WebAssembly hasher with save()/load() (hash-wasm) hashed 8 times slower
 * on the test machine (0.20 against 1.7 GB/s) and would have capped every
 * push. Where libcrypto cannot be loaded (or fails its self-test), hashing
 * falls back to Bun.CryptoHasher and a saved state is null: the next
 * process then re-reads the upload once, as a restart always did.
 */
import { dlopen, FFIType } from "bun:ffi";

/** A running SHA-256, as the blob store hashes uploads. */
export interface Sha256 {
  update(chunk: Uint8Array): unknown;
  /** The digest of everything so far, as lowercase hex; the state is unchanged. */
  digest(encoding: "hex"): string;
  /** The state to hand to `restoreSha256` elsewhere, as text; null when this hasher cannot export it. */
  save(): string | null;
}

/** sizeof(SHA256_CTX) in OpenSSL 1.1 and 3.x, BoringSSL and LibreSSL: h[8], Nl, Nh, data[16], num, md_len as 32-bit words. */
const CTX_BYTES = 112;
/** A saved state starts with this, so a state of another format (or none) is recognised and rebuilt from the file. */
const FORMAT = "ossl1:";

type LibCrypto = {
  SHA256_Init(ctx: Uint8Array): number;
  SHA256_Update(ctx: Uint8Array, data: Uint8Array, length: number): number;
  SHA256_Final(out: Uint8Array, ctx: Uint8Array): number;
};

let loaded: LibCrypto | null | undefined;

/** The system's libcrypto SHA-256 functions, when they load and hash correctly; null otherwise. */
function libcrypto(): LibCrypto | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  for (const name of ["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so", "libcrypto.3.dylib", "libcrypto.dylib"]) {
    try {
      const lib = dlopen(name, {
        SHA256_Init: { args: [FFIType.ptr], returns: FFIType.i32 },
        SHA256_Update: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
        SHA256_Final: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
      });
      const candidate = lib.symbols as unknown as LibCrypto;
      if (selfTest(candidate)) {
        loaded = candidate;
        break;
      }
      lib.close();
    } catch {
      // Not on this system under that name: try the next one.
    }
  }
  return loaded;
}

/** Whether a state saved after a split gives Bun's digest: catches a struct of another size or layout. */
function selfTest(lib: LibCrypto): boolean {
  const data = new Uint8Array(1000).map((_, i) => (i * 7) & 255);
  const ctx = new Uint8Array(CTX_BYTES + 64);
  if (lib.SHA256_Init(ctx) !== 1) return false;
  lib.SHA256_Update(ctx, data.subarray(0, 333), 333);
  if (ctx.subarray(CTX_BYTES).some((b) => b !== 0)) return false;
  const copy = new Uint8Array(CTX_BYTES + 64);
  copy.set(ctx.subarray(0, CTX_BYTES));
  lib.SHA256_Update(copy, data.subarray(333), data.length - 333);
  const out = new Uint8Array(32);
  lib.SHA256_Final(out, copy);
  return Buffer.from(out).toString("hex") === new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** SHA-256 over libcrypto, its state a buffer of ours. */
class SavableSha256 implements Sha256 {
  constructor(
    private readonly lib: LibCrypto,
    private readonly ctx: Uint8Array,
  ) {}

  update(chunk: Uint8Array): this {
    if (chunk.byteLength > 0) this.lib.SHA256_Update(this.ctx, chunk, chunk.byteLength);
    return this;
  }

  digest(_encoding: "hex"): string {
    // Final pads the state it is given: a copy keeps this one going.
    const out = new Uint8Array(32);
    this.lib.SHA256_Final(out, this.ctx.slice());
    return Buffer.from(out).toString("hex");
  }

  save(): string | null {
    return FORMAT + Buffer.from(this.ctx.subarray(0, CTX_BYTES)).toString("base64");
  }
}

/** Bun's hasher, whose state stays in this process. */
class LocalSha256 implements Sha256 {
  private readonly hasher = new Bun.CryptoHasher("sha256");

  update(chunk: Uint8Array): this {
    this.hasher.update(chunk);
    return this;
  }

  digest(_encoding: "hex"): string {
    return this.hasher.copy().digest("hex");
  }

  save(): string | null {
    return null;
  }
}

/** A new SHA-256: savable when libcrypto is there. */
export function newSha256(): Sha256 {
  const lib = libcrypto();
  if (!lib) return new LocalSha256();
  const ctx = new Uint8Array(CTX_BYTES);
  lib.SHA256_Init(ctx);
  return new SavableSha256(lib, ctx);
}

/** The hasher a `save()` described, or null when this process cannot take it up (another format, no libcrypto). */
export function restoreSha256(saved: string | null): Sha256 | null {
  if (saved === null || !saved.startsWith(FORMAT)) return null;
  const lib = libcrypto();
  if (!lib) return null;
  const bytes = Buffer.from(saved.slice(FORMAT.length), "base64");
  // md_len, the last word, is 32 for SHA-256: anything else is not a state we wrote.
  if (bytes.byteLength !== CTX_BYTES || bytes.readUInt32LE(CTX_BYTES - 4) !== 32) return null;
  return new SavableSha256(lib, new Uint8Array(bytes));
}

/** Whether saved states are available here (libcrypto loaded). */
export function sha256Savable(): boolean {
  return libcrypto() !== null;
}
