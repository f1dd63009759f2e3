/**
 * @module The server's request handler: routes /v2 requests, turns thrown
 * errors into OCI error responses in one place, and logs one line per
 * request. It is a plain `fetch` function, so tests call it in process.
 */
import { fail } from "../lib/errors.ts";
import type { Registry } from "../lib/registry/registry.ts";
import { errorResponse } from "./http/errors.ts";
import { matchRoute } from "./v2/router.ts";
import { v2Routes } from "./v2/routes.ts";

/** Options of the request handler. */
export interface AppOptions {
  /** Receives one line per request; silent when absent. */
  log?: (line: string) => void;
}

/** A fetch-style handler for the whole HTTP API. */
export interface App {
  fetch(req: Request): Promise<Response>;
}

const API_VERSION = { "Docker-Distribution-API-Version": "registry/2.0" };

/** Builds the HTTP API over an open registry. */
export function createApp(reg: Registry, options: AppOptions = {}): App {
  const routes = v2Routes(reg);

  async function handleV2(req: Request, url: URL): Promise<Response> {
    try {
      const match = matchRoute(routes, req.method, url.pathname);
      if (!match) fail("NOT_FOUND", "no such endpoint", { path: url.pathname.slice(0, 200) });
      return await match.handler(req, match.params, url);
    } catch (error) {
      return errorResponse(error);
    }
  }

  return {
    async fetch(req: Request): Promise<Response> {
      const started = performance.now();
      const url = new URL(req.url);
      let response: Response;
      if (url.pathname === "/v2" || url.pathname.startsWith("/v2/")) {
        response = await handleV2(req, url);
        for (const [key, value] of Object.entries(API_VERSION)) response.headers.set(key, value);
      } else {
        response = Response.json({ error: "not found" }, { status: 404 });
      }
      if (options.log) {
        const ms = (performance.now() - started).toFixed(1);
        const bytes = response.headers.get("content-length") ?? "-";
        options.log(`${req.method} ${url.pathname}${url.search} ${response.status} ${bytes}B ${ms}ms`);
      }
      return response;
    },
  };
}
