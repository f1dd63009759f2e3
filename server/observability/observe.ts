/**
 * @module Wraps the API handler with what operators need around it: a
 * request id on every request and response, one log line per request,
 * metrics, `GET /metrics`, and the readiness endpoint `GET /v1/ready`
 * (which answers 503 once the server is draining for shutdown).
 */
import { safeEqual } from "../../lib/auth/secrets.ts";
import { checkReadiness } from "../../lib/registry/health.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import type { App, ConnectionInfo } from "../app.ts";
import { countBodyBytes } from "../http/body.ts";
import { clientAddress, trustedPeers } from "../http/client-address.ts";
import { requestTarget } from "../http/request-target.ts";
import type { Logger } from "./logger.ts";
import { isUpload, methodLabel, routeLabel, type ServerMetrics } from "./server-metrics.ts";

/** What to wrap the handler with. */
export interface ObserveOptions {
  reg: Registry;
  logger: Logger;
  /** null: metrics disabled, /metrics answers 404. */
  metrics: ServerMetrics | null;
  /** When set, /metrics requires `Authorization: Bearer <token>`. */
  metricsToken: string | null;
  /** The /metrics body when it is more than this process's own (several workers); default `metrics.render()`. */
  renderMetrics?: () => Promise<string>;
  /** Reverse proxies whose X-Forwarded-For names the client in logs. */
  trustedProxies?: readonly string[];
}

/** The wrapped handler. */
export interface ObservedApp {
  fetch(req: Request, connection?: ConnectionInfo): Promise<Response>;
  /** From now on readiness answers 503, so load balancers stop sending requests. */
  drain(): void;
  /** Requests being handled now. */
  inFlight(): number;
}

/** A request id a proxy sent is kept when it looks like one; otherwise a new one is made. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** New ids are this process's random prefix and a counter: unique without asking for random bytes per request. */
const ID_PREFIX = Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString("hex");
let idCounter = 0;

function requestId(req: Request): string {
  const given = req.headers.get("x-request-id");
  if (given !== null && REQUEST_ID.test(given)) return given;
  idCounter = (idCounter + 1) % 0x1_0000_0000;
  return ID_PREFIX + idCounter.toString(16).padStart(8, "0");
}

/** Wraps `app`. */
export function observe(app: App, options: ObserveOptions): ObservedApp {
  const { logger, metrics } = options;
  let draining = false;
  const trusted = trustedPeers(options.trustedProxies ?? []);
  let inFlight = 0;

  async function serveMetrics(req: Request): Promise<Response> {
    if (!metrics) return Response.json({ error: "not found" }, { status: 404 });
    if (req.method !== "GET" && req.method !== "HEAD") return Response.json({ error: `${req.method} is not supported on this endpoint` }, { status: 405 });
    if (options.metricsToken !== null) {
      const given = /^Bearer (.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";
      if (!safeEqual(given, options.metricsToken)) {
        return Response.json({ error: "a bearer token is required" }, { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="metrics"' } });
      }
    }
    return new Response(await (options.renderMetrics ?? (() => metrics.render()))(), { headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } });
  }

  async function serveReadiness(req: Request): Promise<Response> {
    if (req.method !== "GET" && req.method !== "HEAD") return Response.json({ error: `${req.method} is not supported on this endpoint` }, { status: 405 });
    if (draining) return Response.json({ status: "stopping" }, { status: 503 });
    const readiness = await checkReadiness(options.reg);
    return Response.json({ status: readiness.ready ? "ready" : "unavailable", checks: readiness.checks }, { status: readiness.ready ? 200 : 503 });
  }

  return {
    drain() {
      draining = true;
    },
    inFlight: () => inFlight,
    async fetch(req, peer) {
      const started = performance.now();
      // The peer's address is asked for by the handler and by the log line: look it up once (a syscall).
      let address: { address: string } | null | undefined;
      const connection: ConnectionInfo | undefined = peer && { requestIP: (r) => (address === undefined ? (address = peer.requestIP(r)) : address) };
      const id = requestId(req);
      // A bad Host or CONNECT gets its 400 from the app (never a throw here), and is logged and counted.
      const target = requestTarget(req);
      const path = target.ok ? target.url.pathname : target.path;
      const route = routeLabel(path);
      const method = methodLabel(req.method);
      const upload = isUpload(route, req.method);
      let bytesIn = 0;
      let response: Response;
      inFlight++;
      metrics?.inFlight.inc();
      if (upload) metrics?.uploadsInProgress.inc();
      try {
        if (target.ok && path === "/metrics") response = await serveMetrics(req);
        else if (target.ok && path === "/v1/ready") response = await serveReadiness(req);
        else {
          // Only methods that carry a body are counted (a WeakMap entry per request otherwise).
          if (req.method === "PATCH" || req.method === "PUT" || req.method === "POST") countBodyBytes(req, (n) => (bytesIn += n));
          response = await app.fetch(req, connection);
        }
      } finally {
        inFlight--;
        metrics?.inFlight.dec();
        if (upload) metrics?.uploadsInProgress.dec();
      }
      response.headers.set("X-Request-Id", id);
      const seconds = (performance.now() - started) / 1000;
      const length = response.headers.get("content-length");
      const bytesOut = req.method === "HEAD" || length === null ? 0 : Number(length);
      metrics?.observe({ route, method, status: response.status, seconds, bytesIn, bytesOut, hadCredentials: req.headers.has("authorization") });
      const level = response.status >= 500 ? "error" : "info";
      if (logger.enabled(level)) {
        const ms = Math.round(seconds * 10_000) / 10;
        const remote = clientAddress(req, connection?.requestIP(req)?.address ?? null, trusted);
        // The query string is left out: it can carry credentials (OAuth2 clients) and tokens.
        if (logger.format === "json") {
          logger[level]("request", { id, method: req.method, path, route, status: response.status, bytes_in: bytesIn, bytes_out: bytesOut, ms, remote });
        } else {
          logger[level](`${req.method} ${path} ${response.status} ${length ?? "-"}B ${ms}ms`, { id });
        }
      }
      return response;
    },
  };
}
