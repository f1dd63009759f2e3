/**
 * @module Sends fuzz cases to a running server over raw sockets and checks
 * what comes back: never a 5xx, never a hang (unless the case leaves the
 * server waiting for bytes), errors in the API's own format, and the
 * security headers on every answer the application gives.
 */
import { rawRequest, requestHead, type RawResponse } from "../support/raw-http.ts";
import type { FuzzCase } from "./cases.ts";

/** A case that broke an invariant, with what it got. */
export interface Violation {
  fuzzCase: FuzzCase;
  problems: string[];
  response: RawResponse;
}

/** How long a case may take before it counts as a hang. */
const DEADLINE_MS = 15_000;
/** How long a case that may leave the server waiting is given before the client hangs up. */
const WAIT_MS = 750;

/** The exact bytes a case puts on the wire. */
export function wireBytes(c: FuzzCase, host: string): Uint8Array {
  if (c.raw) return c.raw;
  const headers = [...c.headers];
  if (c.contentLength !== undefined) {
    if (c.contentLength !== null) headers.push(["Content-Length", c.contentLength]);
  } else if (c.body) {
    headers.push(["Content-Length", String(c.body.byteLength)]);
  }
  const head = new TextEncoder().encode(requestHead(c.method, c.target, host, headers));
  if (!c.body) return head;
  const out = new Uint8Array(head.byteLength + c.body.byteLength);
  out.set(head);
  out.set(c.body, head.byteLength);
  return out;
}

/** Sends one case; its answer, and the invariants that answer breaks. */
export async function runCase(c: FuzzCase, host: string, port: number): Promise<{ response: RawResponse; violation: Violation | null }> {
  const response = await rawRequest({ host, port, parts: [wireBytes(c, `${host}:${port}`)], timeoutMs: c.mayWait ? WAIT_MS : DEADLINE_MS });
  const problems = check(c, response);
  return { response, violation: problems.length > 0 ? { fuzzCase: c, problems, response } : null };
}

function check(c: FuzzCase, res: RawResponse): string[] {
  if (res.status === null) return c.mayWait ? [] : [`no answer within ${DEADLINE_MS} ms`];
  const problems: string[] = [];
  // Answers from the application (not Bun's own parser errors) carry its headers and formats.
  const fromApp = res.headers.has("x-content-type-options") || res.headers.has("docker-distribution-api-version");
  if (!fromApp) {
    // Bun's parser answers a request line it cannot read itself: 4xx, or 505 for an unknown HTTP version.
    if (res.status < 400 || (res.status >= 500 && res.status !== 505)) problems.push(`answered ${res.status} without the application's headers`);
    return problems;
  }
  if (res.status >= 500) problems.push(`answered ${res.status}`);
  if (res.headers.get("x-content-type-options") !== "nosniff") problems.push("no X-Content-Type-Options: nosniff");
  if (!res.headers.get("content-security-policy")?.includes("default-src 'none'")) problems.push("no restrictive Content-Security-Policy");
  if (res.status >= 400 && c.method !== "HEAD" && !res.timedOut) {
    const problem = errorBodyProblem(res);
    if (problem) problems.push(problem);
  }
  return problems;
}

/** /v2 errors are `{"errors":[{"code","message"}]}`; everything else `{"error": "..."}`. */
function errorBodyProblem(res: RawResponse): string | null {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(res.body));
  } catch {
    return `error body is not JSON: ${new TextDecoder().decode(res.body.subarray(0, 120))}`;
  }
  if (res.headers.has("docker-distribution-api-version")) {
    const first = (body as { errors?: { code?: unknown; message?: unknown }[] }).errors?.[0];
    return typeof first?.code === "string" && typeof first.message === "string" ? null : "error body is not in the OCI format";
  }
  return typeof (body as { error?: unknown }).error === "string" ? null : 'error body is not {"error": "..."}';
}

/** Runs the cases `indices` name, `concurrency` connections at a time. */
export async function runCases(
  make: (index: number) => FuzzCase,
  indices: readonly number[],
  concurrency: number,
  host: string,
  port: number,
): Promise<{ violations: Violation[]; statuses: Map<number | null, number> }> {
  const violations: Violation[] = [];
  const statuses = new Map<number | null, number>();
  let next = 0;
  const worker = async () => {
    while (next < indices.length) {
      const c = make(indices[next++]!);
      const { response, violation } = await runCase(c, host, port);
      if (violation) violations.push(violation);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { violations, statuses };
}

/** A violation as a person reads it, with how to replay it. */
export function describeViolation(v: Violation, seed: number): string {
  const c = v.fuzzCase;
  const head = c.raw ? `raw ${c.raw.byteLength} bytes: ${JSON.stringify(new TextDecoder().decode(c.raw.subarray(0, 160)))}` : `${c.method} ${c.target.slice(0, 160)}`;
  const body = new TextDecoder().decode(v.response.body.subarray(0, 200));
  return [
    `case #${c.index} [${c.label}] ${head}${c.body ? ` (body ${c.body.byteLength} bytes)` : ""}`,
    `  → ${v.response.status ?? "no answer"} ${body}`,
    `  broke: ${v.problems.join("; ")}`,
    `  replay: FUZZ_SEED=${seed} FUZZ_ONLY=${c.index} bun test test/fuzz`,
  ].join("\n");
}
