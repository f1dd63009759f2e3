/**
 * @module /v1/repositories (admin only): the listing with sizes (paged by
 * name), one repository with its tags, and DELETE; the same objects as
 * `mcr repo list|show|delete --json`.
 */
import {
  deleteRepository,
  getRepositoryDetail,
  listRepositorySummaries,
  registryTotals,
} from "../../lib/registry/repositories.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { integerParam } from "../http/pagination.ts";
import type { V1Route } from "./router.ts";

const DEFAULT_LIMIT = 100;
/** Repository names span path segments, so the rest of the path is the name. */
const REPOSITORY = /^\/v1\/repositories\/(?<name>.+)$/;

/** Repository routes. */
export function repositoryRoutes(reg: Registry): V1Route[] {
  return [
    {
      method: "GET",
      pattern: /^\/v1\/repositories$/,
      access: "admin",
      async handle(_req, { url }) {
        const limit = integerParam(url, "limit", 1, 1000) ?? DEFAULT_LIMIT;
        const page = await listRepositorySummaries(reg, limit, url.searchParams.get("cursor") ?? undefined);
        return Response.json({ repositories: page.repositories, nextCursor: page.next, totals: await registryTotals(reg) });
      },
    },
    {
      method: "GET",
      pattern: REPOSITORY,
      access: "admin",
      handle: async (_req, { params }) => Response.json(await getRepositoryDetail(reg, params.name!)),
    },
    {
      method: "DELETE",
      pattern: REPOSITORY,
      access: "admin",
      async handle(_req, { params, actor, origin }) {
        return Response.json(await deleteRepository(reg, params.name!, { actor, source: origin.source }));
      },
    },
  ];
}
