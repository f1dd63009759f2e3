/**
 * @module The chaos clients' HTTP: every request carries the run's token
 * and a deadline; a request the dying server never answered throws
 * `Interrupted`; any 5xx is recorded as a violation. Blobs go up by every
 * method the API offers (single POST, POST+PUT, chunked PATCHes, mount).
 */
import { sha256Digest } from "../../lib/oci/digest.ts";
import type { Rng } from "../support/random.ts";

/** The server went away with the request in flight: its outcome is unknown. */
export class Interrupted extends Error {
  constructor(what: string) {
    super(`interrupted: ${what}`);
  }
}

/** Where to send requests, and where broken invariants go. */
export class ChaosClient {
  base = "";
  constructor(
    readonly auth: () => string,
    readonly problems: string[],
  ) {}

  /** Sends a request; throws Interrupted when there is no answer, records a violation on 5xx. */
  async send(method: string, path: string, init: { body?: Uint8Array | string | ReadableStream<Uint8Array>; headers?: Record<string, string> } = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        body: init.body,
        headers: { Authorization: this.auth(), ...init.headers },
        signal: AbortSignal.timeout(20_000),
      });
    } catch {
      throw new Interrupted(`${method} ${path}`);
    }
    if (res.status >= 500) {
      const text = await res.text().catch(() => "");
      this.problems.push(`${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
      throw new Interrupted(`${method} ${path} (${res.status})`);
    }
    return res;
  }

  /** The body of `res`; a server killed while sending it throws `Interrupted`, as an unanswered request does. */
  async bytes(res: Response, what: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch {
      throw new Interrupted(`reading the body of ${what}`);
    }
  }

  /** Like `send`, but a status outside `ok` is recorded as a violation. Returns the response. */
  async expect(ok: number[], method: string, path: string, init: { body?: Uint8Array | string | ReadableStream<Uint8Array>; headers?: Record<string, string> } = {}): Promise<Response> {
    const res = await this.send(method, path, init);
    if (!ok.includes(res.status)) {
      const text = await res.text().catch(() => "");
      this.problems.push(`${method} ${path} answered ${res.status} (expected ${ok.join("/")}): ${text.slice(0, 300)}`);
    }
    return res;
  }
}

/** How a blob goes up. */
export const uploadMethods = ["single", "post-put", "chunked", "mount"] as const;
export type UploadMethod = (typeof uploadMethods)[number];

/**
 * Pushes `bytes` to `repo` by `method` (a mount names `from`, and falls
 * back to an upload when the registry declines). Resolves true on 201.
 */
export async function pushBlob(client: ChaosClient, rng: Rng, repo: string, bytes: Uint8Array, method: UploadMethod, from?: string): Promise<boolean> {
  const digest = sha256Digest(bytes);
  if (method === "single") {
    return (await client.expect([201], "POST", `/v2/${repo}/blobs/uploads/?digest=${digest}`, { body: bytes })).status === 201;
  }
  const startPath = method === "mount" && from ? `/v2/${repo}/blobs/uploads/?mount=${digest}&from=${from}` : `/v2/${repo}/blobs/uploads/`;
  const start = await client.expect([201, 202], "POST", startPath);
  if (start.status === 201) return true;
  if (start.status !== 202) return false;
  const location = start.headers.get("location")!;
  if (method !== "chunked") {
    return (await client.expect([201], "PUT", `${location}?digest=${digest}`, { body: bytes })).status === 201;
  }
  let at = 0;
  const chunks = rng.int(1, 4);
  for (let i = 0; i < chunks && at < bytes.byteLength; i++) {
    const end = i === chunks - 1 ? bytes.byteLength : Math.min(bytes.byteLength, at + rng.int(1, Math.ceil(bytes.byteLength / chunks)));
    const res = await client.expect([202], "PATCH", location, { body: bytes.subarray(at, end), headers: { "Content-Range": `${at}-${end - 1}` } });
    if (res.status !== 202) return false;
    at = end;
  }
  const rest = bytes.subarray(at);
  const headers: Record<string, string> = rest.byteLength > 0 ? { "Content-Range": `${at}-${bytes.byteLength - 1}` } : {};
  return (await client.expect([201], "PUT", `${location}?digest=${digest}`, { body: rest, headers })).status === 201;
}

/** The digest and size of `bytes`. */
export function describe(bytes: Uint8Array): { digest: string; size: number } {
  return { digest: sha256Digest(bytes), size: bytes.byteLength };
}
