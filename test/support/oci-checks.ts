/**
 * @module Shared checks for the /v2 HTTP tests: an in-process registry that
 * records every response it gives, and the assertion for OCI error bodies.
 */
import { expect } from "bun:test";
import { testApp, type TestApp } from "./app.ts";

/** One response a recording registry gave. */
export interface Seen {
  method: string;
  path: string;
  status: number;
}

/** A fresh test registry whose every response is appended to `seen`. */
export async function recordingApp(seen: Seen[]): Promise<TestApp> {
  const t = await testApp();
  const send = t.request;
  t.request = async (method, path, init) => {
    const res = await send(method, path, init);
    seen.push({ method, path, status: res.status });
    return res;
  };
  return t;
}

/** The responses in `seen` that were server errors; the list must stay empty. */
export function serverErrors(seen: readonly Seen[]): Seen[] {
  return seen.filter((s) => s.status >= 500);
}

/** What one entry of an OCI error body holds. */
export interface OciError {
  code: string;
  message: string;
  detail: unknown;
}

/**
 * Asserts `res` is an OCI error response: `status`, a JSON body of the form
 * `{"errors":[{"code","message","detail"}]}` whose first code is `code`,
 * and the API version header every /v2 response carries. Returns that entry.
 */
export async function expectOciError(res: Response, status: number, code: string): Promise<OciError> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  expect({ status: res.status, body }).toMatchObject({ status, body: { errors: [{ code }] } });
  expect(res.headers.get("content-type") ?? "").toStartWith("application/json");
  expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  const errors = (body as { errors: unknown[] }).errors;
  expect(errors.length).toBeGreaterThanOrEqual(1);
  for (const entry of errors) {
    expect(Object.keys(entry as object).sort()).toEqual(["code", "detail", "message"]);
    const { code: entryCode, message } = entry as OciError;
    expect(entryCode).toMatch(/^[A-Z_]+$/);
    expect(typeof message).toBe("string");
  }
  return errors[0] as OciError;
}

/** A body that arrives as a stream of `chunks` with no Content-Length, as chunked transfer does. */
export function streamOf(...chunks: (Uint8Array | string)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === "string" ? enc.encode(chunk) : chunk);
      controller.close();
    },
  });
}
