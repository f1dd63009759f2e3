/**
 * @module Metrics, request ids, request logs and readiness around the API,
 * in process: counters move as requests happen, /metrics can be
 * protected, readiness fails when storage cannot be written.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../../server/observability/logger.ts";
import { observe, type ObservedApp } from "../../../server/observability/observe.ts";
import { routeLabel, ServerMetrics } from "../../../server/observability/server-metrics.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushImage } from "../../support/blobs.ts";
import { ADMIN_AUTH, basicAuth } from "../../support/credentials.ts";
import { metricValue } from "../../support/prometheus.ts";

const TOKEN = "metrics-secret-0123456789";
let t: TestApp;
let observed: ObservedApp;
let guarded: ObservedApp;
const lines: string[] = [];

const connection = { requestIP: () => ({ address: "192.0.2.7" }) };
const send = (app: ObservedApp, method: string, path: string, init: RequestInit = {}) =>
  app.fetch(new Request(`http://registry.test${path}`, { method, ...init }), connection);
const scrape = async (app = observed) => (await send(app, "GET", "/metrics")).text();

beforeAll(async () => {
  t = await testApp();
  const logger = createLogger({ level: "info", format: "json", write: (line) => lines.push(line) });
  observed = observe(t.app, { reg: t.reg, logger, metrics: new ServerMetrics(t.reg, { version: "1.2.3", commit: "abc" }), metricsToken: null });
  guarded = observe(t.app, { reg: t.reg, logger, metrics: new ServerMetrics(t.reg, { version: "1.2.3", commit: "abc" }), metricsToken: TOKEN });
});
afterAll(() => t.close());

describe("route labels", () => {
  test("name the resource, never the repository", () => {
    expect(routeLabel("/v2/")).toBe("v2/base");
    expect(routeLabel("/v2/a/b/c/blobs/uploads/")).toBe("v2/uploads");
    expect(routeLabel("/v2/a/b/blobs/uploads/123-abc")).toBe("v2/upload");
    expect(routeLabel("/v2/secret-project/manifests/latest")).toBe("v2/manifest");
    expect(routeLabel("/v2/token")).toBe("v2/token");
    expect(routeLabel("/v1/users/alice")).toBe("v1/users");
    expect(routeLabel("/favicon.ico")).toBe("other");
  });
});

describe("metrics", () => {
  test("request counters, latency, bytes and stored blobs move as requests happen", async () => {
    const before = await scrape();
    const auth = { authorization: ADMIN_AUTH };
    const body = new Uint8Array(1000).fill(7);
    const digest = `sha256:${new Bun.CryptoHasher("sha256").update(body).digest("hex")}`;
    expect((await send(observed, "POST", `/v2/m/app/blobs/uploads/?digest=${digest}`, { body, headers: auth })).status).toBe(201);
    expect((await send(observed, "GET", `/v2/m/app/blobs/${digest}`, { headers: auth })).status).toBe(200);
    expect((await send(observed, "GET", "/v2/m/app/manifests/nope", { headers: auth })).status).toBe(404);
    // Stored-blob counts are cached for a few seconds; a fresh metrics object reads them now.
    const after = await scrape();

    const count = (text: string, labels: Record<string, string>) => metricValue(text, "mcr_http_requests_total", labels);
    expect(count(after, { route: "v2/uploads", method: "POST", status: "201" }) - count(before, { route: "v2/uploads", method: "POST", status: "201" })).toBe(1);
    expect(count(after, { route: "v2/blob", method: "GET", status: "200" }) - count(before, { route: "v2/blob", method: "GET", status: "200" })).toBe(1);
    expect(count(after, { route: "v2/manifest", method: "GET", status: "404" })).toBe(1);
    expect(metricValue(after, "mcr_http_request_bytes_total", { route: "v2/uploads" }) - metricValue(before, "mcr_http_request_bytes_total", { route: "v2/uploads" })).toBe(1000);
    expect(metricValue(after, "mcr_http_response_bytes_total", { route: "v2/blob" })).toBeGreaterThanOrEqual(1000);
    expect(metricValue(after, "mcr_http_request_duration_seconds_count", { route: "v2/blob", method: "GET" })).toBeGreaterThanOrEqual(1);
    expect(metricValue(after, "mcr_http_request_duration_seconds_bucket", { route: "v2/blob", method: "GET", le: "+Inf" })).toBeGreaterThanOrEqual(1);
    expect(after).toContain('mcr_build_info{version="1.2.3",commit="abc"} 1');
    expect(after).toContain("# TYPE mcr_http_request_duration_seconds histogram");
    expect(after).not.toContain("m/app");

    const fresh = observe(t.app, { reg: t.reg, logger: createLogger({ write: () => {} }), metrics: new ServerMetrics(t.reg, { version: "x", commit: "y" }), metricsToken: null });
    await pushImage(t, "m/img", "v1");
    const stored = await scrape(fresh);
    expect(metricValue(stored, "mcr_blobs")).toBe(4);
    expect(metricValue(stored, "mcr_blob_bytes")).toBeGreaterThan(1000);
    expect(metricValue(stored, "mcr_upload_sessions")).toBe(0);
  });

  test("auth failures: bad credentials, denials and throttling, but not the anonymous first challenge", async () => {
    const failures = async () => {
      const text = await scrape();
      return { invalid: metricValue(text, "mcr_auth_failures_total", { reason: "invalid" }), denied: metricValue(text, "mcr_auth_failures_total", { reason: "denied" }) };
    };
    const before = await failures();
    expect((await send(observed, "GET", "/v2/")).status).toBe(401);
    expect((await send(observed, "GET", "/v2/", { headers: { authorization: basicAuth("admin", "wrong") } })).status).toBe(401);
    expect((await send(observed, "GET", "/v1/users", { headers: { authorization: basicAuth("nobody", "wrong") } })).status).toBe(401);
    const after = await failures();
    expect(after.invalid - before.invalid).toBe(2);
    expect(after.denied).toBe(before.denied);
  });

  test("uploads in progress count a streaming upload until it completes", async () => {
    const start = await send(observed, "POST", "/v2/m/slow/blobs/uploads/", { headers: { authorization: ADMIN_AUTH } });
    const location = start.headers.get("location")!;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        controller.enqueue(new Uint8Array(10));
        await gate;
        controller.close();
      },
    });
    const patch = send(observed, "PATCH", location, { body, headers: { authorization: ADMIN_AUTH }, duplex: "half" } as RequestInit);
    await Bun.sleep(50);
    expect(metricValue(await scrape(), "mcr_uploads_in_progress")).toBe(1);
    release();
    expect((await patch).status).toBe(202);
    expect(metricValue(await scrape(), "mcr_uploads_in_progress")).toBe(0);
  });

  test("a metrics token protects /metrics", async () => {
    expect((await send(guarded, "GET", "/metrics")).status).toBe(401);
    expect((await send(guarded, "GET", "/metrics", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const ok = await send(guarded, "GET", "/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  });

  test("disabled metrics answer 404", async () => {
    const off = observe(t.app, { reg: t.reg, logger: createLogger({ write: () => {} }), metrics: null, metricsToken: null });
    expect((await send(off, "GET", "/metrics")).status).toBe(404);
  });
});

describe("request ids and logs", () => {
  test("every response carries a request id, a sane one from the proxy is kept, and the JSON log line has it", async () => {
    lines.length = 0;
    const res = await send(observed, "GET", "/v2/?secret=1", { headers: { authorization: ADMIN_AUTH, "x-request-id": "proxy-id-42" } });
    expect(res.headers.get("x-request-id")).toBe("proxy-id-42");
    const generated = await send(observed, "GET", "/v1/health", { headers: { "x-request-id": "bad id with spaces" } });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f]{16}$/);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries[0]).toMatchObject({ level: "info", msg: "request", id: "proxy-id-42", method: "GET", path: "/v2/", route: "v2/base", status: 200, remote: "192.0.2.7" });
    expect(typeof entries[0]?.ms).toBe("number");
    expect(entries[1]?.id).toBe(generated.headers.get("x-request-id"));
    expect(lines.join("\n")).not.toContain("secret=1");
  });

  test("text logs: the request line with its id; levels below the threshold are dropped", () => {
    const out: string[] = [];
    const logger = createLogger({ level: "warn", format: "text", write: (l) => out.push(l) });
    logger.info("hidden");
    logger.warn("disk almost full", { free: "1 GB", pct: 3 });
    logger.error("boom");
    expect(out).toEqual([`warn: disk almost full free="1 GB" pct=3`, "error: boom"]);
  });
});

describe("readiness", () => {
  test("ready while the database answers and storage takes writes; 503 naming the failed check otherwise, and while draining", async () => {
    const ready = await send(observed, "GET", "/v1/ready");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: { ok: true }, storage: { ok: true } } });

    const uploads = join(t.dataDir, "uploads");
    renameSync(uploads, `${uploads}.aside`);
    writeFileSync(uploads, "not a directory");
    try {
      const broken = await send(observed, "GET", "/v1/ready");
      expect(broken.status).toBe(503);
      const body = (await broken.json()) as { status: string; checks: { database: { ok: boolean }; storage: { ok: boolean; error: string } } };
      expect(body.status).toBe("unavailable");
      expect(body.checks.database.ok).toBe(true);
      expect(body.checks.storage.ok).toBe(false);
      expect(body.checks.storage.error).toBeString();
    } finally {
      rmSync(uploads);
      renameSync(`${uploads}.aside`, uploads);
      mkdirSync(uploads, { recursive: true });
    }
    expect((await send(observed, "GET", "/v1/health")).status).toBe(200);

    const draining = observe(t.app, { reg: t.reg, logger: createLogger({ write: () => {} }), metrics: null, metricsToken: null });
    draining.drain();
    expect((await send(draining, "GET", "/v1/ready")).status).toBe(503);
    expect((await send(draining, "GET", "/v1/health")).status).toBe(200);
  });
});
