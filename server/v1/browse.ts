/**
 * @module /v1/browse: what the web UI shows, for any caller, limited to
 * the repositories the policy lets them pull (anonymous callers see what
 * anonymous may pull, by default nothing). A repository the caller may
 * not see answers as if it did not exist. Deleting a tag or manifest
 * takes the policy's `delete` and is audited like the registry API's; in
 * a mirror namespace it is refused, as there.
 */
import { fail } from "../../lib/errors.ts";
import { browseRepositories, browseRepository, browseStorage, MAX_BROWSE_PAGE, MAX_TAG_PAGE, type Visible } from "../../lib/registry/browse.ts";
import { tagOrders, type TagOrder } from "../../lib/registry/tag-order.ts";
import { viewManifest } from "../../lib/registry/image-view.ts";
import { deleteManifest } from "../../lib/registry/manifests.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import type { Identity } from "../../lib/auth/identity.ts";
import type { Mirror } from "../../lib/mirror/mirror.ts";
import { requireAccess } from "../auth/guard.ts";
import { integerParam } from "../http/pagination.ts";
import type { V1Route } from "./router.ts";

const DEFAULT_LIMIT = 50;
const DEFAULT_TAG_LIMIT = 100;
/** The storage page's growth chart spans this many days. */
const GROWTH_DAYS = 90;

function param(url: URL, name: string): string {
  const value = url.searchParams.get(name);
  if (value === null || value === "") fail("INVALID_ARGUMENT", `${name} is required`);
  if (value.length > 512) fail("INVALID_ARGUMENT", `${name} is too long`);
  return value;
}

/** The browse routes. */
export function browseRoutes(reg: Registry, mirror: Mirror | null = null): V1Route[] {
  /** The policy as it stands for this request, and what the viewer may see and do (never write into a mirror namespace). */
  async function rights(viewer: Identity) {
    const policy = await reg.policy.snapshot();
    const visible: Visible = (name) => policy.decide(viewer, "pull", name).allowed;
    const may = (action: "push" | "delete", name: string) => policy.decide(viewer, action, name).allowed && mirror?.byPrefix(name) == null;
    return { policy, visible, may };
  }

  return [
    {
      method: "GET",
      pattern: /^\/v1\/browse\/repositories$/,
      access: "viewer",
      async handle(_req, { url, viewer }) {
        const { visible } = await rights(viewer);
        const limit = integerParam(url, "limit", 1, MAX_BROWSE_PAGE) ?? DEFAULT_LIMIT;
        const q = (url.searchParams.get("q") ?? "").slice(0, 256);
        const page = await browseRepositories(reg, visible, q, limit, url.searchParams.get("cursor") ?? undefined);
        return Response.json({ repositories: page.repositories, nextCursor: page.next, matched: page.matched });
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/browse\/repository$/,
      access: "viewer",
      async handle(_req, { url, viewer }) {
        const name = param(url, "name");
        const { visible, may } = await rights(viewer);
        const order = url.searchParams.get("sort") ?? "pushed";
        if (!(tagOrders as readonly string[]).includes(order)) fail("INVALID_ARGUMENT", `sort must be one of ${tagOrders.join(", ")}`);
        const repository = await browseRepository(reg, visible, name, {
          order: order as TagOrder,
          filter: (url.searchParams.get("q") ?? "").slice(0, 256),
          offset: integerParam(url, "offset", 0, Number.MAX_SAFE_INTEGER) ?? 0,
          limit: integerParam(url, "limit", 1, MAX_TAG_PAGE) ?? DEFAULT_TAG_LIMIT,
        });
        return Response.json({ ...repository, canDelete: may("delete", name), canPush: may("push", name) });
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/browse\/manifest$/,
      access: "viewer",
      async handle(_req, { url, viewer }) {
        const name = param(url, "name");
        const { visible, may } = await rights(viewer);
        if (!visible(name)) fail("NAME_UNKNOWN", "repository name not known to registry", { name });
        return Response.json({ ...(await viewManifest(reg, name, param(url, "reference"))), canDelete: may("delete", name) });
      },
    },
    {
      method: "DELETE",
      pattern: /^\/v1\/browse\/manifest$/,
      access: "viewer",
      async handle(_req, { url, viewer, origin, actor }) {
        const name = param(url, "name");
        const reference = param(url, "reference");
        const { policy } = await rights(viewer);
        mirror?.checkWritable(name);
        // The registry API's own check: a refusal is audited as access.denied there and here.
        await requireAccess(reg, { identity: viewer, claims: null }, "delete", name, origin, policy);
        await deleteManifest(reg, name, reference, { actor, source: origin.source });
        return new Response(null, { status: 204 });
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\/browse\/storage$/,
      access: "viewer",
      async handle(_req, { viewer }) {
        const { visible } = await rights(viewer);
        // Growth is of the whole store: only admins see it (and only for them is it read).
        const admin = viewer.kind === "user" && viewer.role === "admin";
        return Response.json(await browseStorage(reg, visible, admin ? GROWTH_DAYS : null));
      },
    },
  ];
}
