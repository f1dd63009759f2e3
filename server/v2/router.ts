/**
 * @module The /v2 route table. Repository names span path segments, so
 * routes are anchored patterns tried in order, not `:param` routes; the
 * name is validated after it is matched.
 */
import { fail } from "../../lib/errors.ts";
import { checkRepositoryName } from "../../lib/oci/names.ts";
import type { AuditContext } from "../../lib/audit/audit-log.ts";
import type { RequestAuth, RouteAccess } from "../auth/guard.ts";
import type { MirrorRoute } from "./mirror-route.ts";

/** What a handler receives besides the request. */
export interface RouteParams {
  name: string;
  digest: string;
  reference: string;
  id: string;
}

/** What a handler knows about the caller, for checks beyond its route's own access. */
export interface RequestContext {
  auth: RequestAuth;
  /** Who is asking and from where, for the audit events the handler's lib/ call records. */
  by: AuditContext;
  /** Whether the policy lets the caller pull from repository `name` (the catalog lists those). */
  canRead(name: string): Promise<boolean>;
  /**
   * Whether the caller may pull from `name` with the credentials it sent: the
   * policy, and for a JWT also the token's own scopes. A cross-repository
   * mount needs it, the same check a GET on `name` would pass.
   */
  canPull(name: string): Promise<boolean>;
  /** The upstream a read of a mirror repository goes to (the name in params is then the local cache's). */
  mirror: MirrorRoute | null;
}

/** A handler for one method of one resource. */
export type Handler = (req: Request, params: RouteParams, url: URL, ctx: RequestContext) => Promise<Response> | Response;

/**
 * One resource: its path pattern, a handler per method, and the access
 * each method needs. A method without a declared access is never served.
 */
export interface Route {
  resource: string;
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
  access: Partial<Record<string, RouteAccess>>;
}

/** The resources of the OCI distribution API, in matching order. */
export const routePatterns = {
  base: /^\/v2\/?$/,
  catalog: /^\/v2\/_catalog$/,
  uploads: /^\/v2\/(?<name>.+)\/blobs\/uploads\/?$/,
  upload: /^\/v2\/(?<name>.+)\/blobs\/uploads\/(?<id>[^/]+)$/,
  blob: /^\/v2\/(?<name>.+)\/blobs\/(?<digest>[^/]+)$/,
  manifest: /^\/v2\/(?<name>.+)\/manifests\/(?<reference>[^/]+)$/,
  tags: /^\/v2\/(?<name>.+)\/tags\/list$/,
  referrers: /^\/v2\/(?<name>.+)\/referrers\/(?<digest>[^/]+)$/,
} as const;

/** A matched route: the handler to call, its parameters and the access it needs. */
export interface Match {
  resource: string;
  handler: Handler;
  params: RouteParams;
  access: RouteAccess;
}

/**
 * Finds the handler for `method` and `path`: null when no route matches;
 * throws UNSUPPORTED for a method the resource lacks and NAME_INVALID for
 * a malformed repository name.
 */
export function matchRoute(routes: readonly Route[], method: string, path: string): Match | null {
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    const groups = match.groups ?? {};
    const lookup = route.methods[method];
    const access = route.access[method];
    if (!lookup || !access) fail("UNSUPPORTED", `${method} is not supported on this resource`, { method, resource: route.resource });
    const params: RouteParams = {
      name: groups.name ?? "",
      digest: groups.digest ?? "",
      reference: groups.reference ?? "",
      id: groups.id ?? "",
    };
    if (groups.name !== undefined) checkRepositoryName(params.name);
    return { resource: route.resource, handler: lookup, params, access };
  }
  return null;
}
