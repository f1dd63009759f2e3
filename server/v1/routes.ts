/**
 * @module The /v1 admin API assembled: every area's routes in one table.
 * Errors are `{"error": "..."}` with the status of the error table.
 */
import type { Authenticator } from "../../lib/auth/authenticator.ts";
import type { Mirror } from "../../lib/mirror/mirror.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { auditRoutes } from "./audit.ts";
import { browseRoutes } from "./browse.ts";
import { repositoryRoutes } from "./repositories.ts";
import { gcRoutes } from "./gc.ts";
import type { V1Route } from "./router.ts";
import { policyRoutes } from "./policy.ts";
import { retentionRoutes } from "./retention.ts";
import { sessionRoutes } from "./sessions.ts";
import { uiSessionRoutes } from "./ui-session.ts";
import { userRoutes } from "./users.ts";

/** Every /v1 route (the web UI's too). */
export function v1Routes(reg: Registry, auth: Authenticator, options: { gcGraceMs?: number; mirror?: Mirror | null } = {}): V1Route[] {
  return [
    ...sessionRoutes(reg, auth),
    ...userRoutes(reg),
    ...policyRoutes(reg),
    ...auditRoutes(reg),
    ...repositoryRoutes(reg),
    ...gcRoutes(reg, options.gcGraceMs),
    ...retentionRoutes(reg),
    ...uiSessionRoutes(reg, auth),
    ...browseRoutes(reg, options.mirror ?? null),
  ];
}
