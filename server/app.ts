/**
 * @module The server's request handler: authenticates and routes /v2
 * requests, serves the token endpoint, the /v1 API and the web UI at `/`, turns thrown
 * errors into responses in one place, and logs one line per request. It
 * is a plain `fetch` function, so tests call it in process.
 */
import { ANONYMOUS, actorOf } from "../lib/auth/identity.ts";
import type { Authenticator } from "../lib/auth/authenticator.ts";
import { fail } from "../lib/errors.ts";
import type { Registry } from "../lib/registry/registry.ts";
import { authenticate, challenge, mayAccess, mountScope, requireAccess, type RequestOrigin } from "./auth/guard.ts";
import { handleTokenRequest } from "./auth/token-endpoint.ts";
import { clientAddress, fromTrustedProxy, trustedPeers } from "./http/client-address.ts";
import { errorResponse, jsonErrorResponse } from "./http/errors.ts";
import { checkHeaderSize } from "./http/header-size.ts";
import { requestBase, requestTarget, targetErrorResponse } from "./http/request-target.ts";
import { withSecurityHeaders } from "./http/security-headers.ts";
import { isUiPath, serveUi, UI_CONTENT_SECURITY_POLICY } from "./ui-pages.ts";
import { adminOf, matchV1, resolveCaller } from "./v1/router.ts";
import { v1Routes } from "./v1/routes.ts";
import { matchRoute, type RequestContext } from "./v2/router.ts";
import { v2Routes } from "./v2/routes.ts";
import { routeMirror } from "./v2/mirror-route.ts";
import type { Mirror } from "../lib/mirror/mirror.ts";
import type { Scope } from "../lib/auth/scope.ts";

/** Options of the request handler. */
export interface AppOptions {
  auth: Authenticator;
  /** Receives one line per request; silent when absent. */
  log?: (line: string) => void;
  /** The registry's public URL (`https://host[:port]`); when absent, taken from each request. */
  baseUrl?: string | null;
  /** Reverse proxies (addresses, CIDR ranges) whose X-Forwarded-For, -Proto and -Host are believed. */
  trustedProxies?: readonly string[];
  /** Grace period of a GC started through /v1/gc without one (default: the library's, 1 h). */
  gcGraceMs?: number;
  /** The pull-through cache of the configured `[[upstream]]`s, if any (docs/mirror.md). */
  mirror?: Mirror | null;
  /** Serve the web UI at `/` (default true; `ui.enabled`). */
  ui?: boolean;
}

/** The part of Bun's server a handler may ask about the connection. */
export interface ConnectionInfo {
  requestIP(req: Request): { address: string } | null;
}

/** A fetch-style handler for the whole HTTP API. */
export interface App {
  fetch(req: Request, connection?: ConnectionInfo): Promise<Response>;
}

const API_VERSION = { "Docker-Distribution-API-Version": "registry/2.0" };

/** Builds the HTTP API over an open registry. */
export function createApp(reg: Registry, options: AppOptions): App {
  const trusted = trustedPeers(options.trustedProxies ?? []);
  const routes = v2Routes(reg);
  const mirror = options.mirror ?? null;
  const v1 = v1Routes(reg, options.auth, { gcGraceMs: options.gcGraceMs, mirror });
  const uiEnabled = options.ui !== false;

  const expandScopes = async (scopes: Scope[]) => (mirror ? mirror.expandScopes(scopes) : scopes);

  async function handleV2(req: Request, url: URL, origin: RequestOrigin): Promise<Response> {
    try {
      checkHeaderSize(req, url, reg.limits.maxHeaderBytes);
      if (url.pathname === "/v2/token") return await handleTokenRequest(reg, options.auth, req, url, origin, expandScopes);
      const match = matchRoute(routes, req.method, url.pathname);
      if (!match) fail("NOT_FOUND", "no such endpoint", { path: url.pathname.slice(0, 200) });
      // A mirrored name becomes its local cache's before the policy decides on it.
      const mirrored = await routeMirror(mirror, match, req.method, url);
      // One look at the policy per request, for the access check, the account check and any repository the handler asks about.
      const policy = await reg.policy.snapshot();
      const auth = await authenticate(options.auth, req, origin, policy.dataVersion);
      await requireAccess(reg, auth, match.access, match.params.name, origin, policy, mountScope(req, url));
      const ctx: RequestContext = {
        auth,
        by: { actor: actorOf(auth.identity), source: origin.source },
        canRead: async (name) => policy.decide(auth.identity, "pull", name).allowed,
        canPull: async (name) => mayAccess(auth, "pull", name, policy),
        mirror: mirrored,
      };
      return await match.handler(req, match.params, url, ctx);
    } catch (error) {
      const response = errorResponse(error);
      // Every 401 tells the client where to log in.
      if (response.status === 401 && !response.headers.has("WWW-Authenticate")) {
        response.headers.set("WWW-Authenticate", challenge(origin, null));
      }
      return response;
    }
  }

  async function handleV1(req: Request, url: URL, origin: RequestOrigin): Promise<Response> {
    try {
      checkHeaderSize(req, url, reg.limits.maxHeaderBytes);
      const { route, params } = matchV1(v1, req.method, url.pathname);
      const viewer = route.access === "public" ? ANONYMOUS : await resolveCaller(options.auth, req, origin);
      const identity = route.access === "admin" ? adminOf(viewer) : null;
      return await route.handle(req, { url, origin, params, identity, viewer, actor: actorOf(viewer) });
    } catch (error) {
      return jsonErrorResponse(error);
    }
  }

  async function route(req: Request, url: URL, connection: ConnectionInfo | undefined): Promise<Response> {
    const peer = connection?.requestIP(req)?.address ?? null;
    const base = options.baseUrl ?? requestBase(req, url, fromTrustedProxy(peer, trusted));
    const origin: RequestOrigin = { base, service: new URL(base).host, source: clientAddress(req, peer, trusted) };
    if (url.pathname === "/v2" || url.pathname.startsWith("/v2/")) {
      const response = await handleV2(req, url, origin);
      for (const [key, value] of Object.entries(API_VERSION)) response.headers.set(key, value);
      return response;
    }
    if (url.pathname.startsWith("/v1/")) return handleV1(req, url, origin);
    if (uiEnabled && isUiPath(url.pathname)) return serveUi(req, url.pathname);
    return Response.json({ error: "not found" }, { status: 404 });
  }

  return {
    async fetch(req: Request, connection?: ConnectionInfo): Promise<Response> {
      const started = performance.now();
      const target = requestTarget(req);
      const response = target.ok ? await route(req, target.url, connection) : targetErrorResponse(target);
      // The UI's own pages may run our own script and style sheet; everything else renders nothing.
      const ui = uiEnabled && target.ok && isUiPath(target.url.pathname) && response.ok;
      withSecurityHeaders(response, ui ? UI_CONTENT_SECURITY_POLICY : undefined);
      if (options.log) {
        const ms = (performance.now() - started).toFixed(1);
        const bytes = response.headers.get("content-length") ?? "-";
        // The query string is left out: it can carry credentials (OAuth2 clients) and tokens.
        options.log(`${req.method} ${target.ok ? target.url.pathname : target.path} ${response.status} ${bytes}B ${ms}ms`);
      }
      return response;
    },
  };
}
