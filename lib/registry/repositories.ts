/**
 * @module Repository management: what each repository holds and how much
 * space it takes (its logical size, and the bytes no other repository
 * shares, which deleting it would free once GC runs), one repository's
 * tags in detail, and deleting a repository.
 */
import type { AuditContext } from "../audit/audit-log.ts";
import { findRepositoryId } from "../db/queries/repositories.ts";
import {
  deleteRepositoryRow,
  registryUsage,
  repositoryUsage,
  uploadIdsOf,
  type RepositoryUsageRow,
} from "../db/queries/repository-usage.ts";
import { fail } from "../errors.ts";
import { checkRepositoryName } from "../oci/names.ts";
import { mirrorUpstreams } from "../db/queries/mirror.ts";
import type { Registry } from "./registry.ts";
import { describeTags, type TagDetail } from "./tag-details.ts";

/** One repository as `mcr repo list --json` and `/v1/repositories` show it. Sizes in bytes, times in ms. */
export interface RepositorySummary {
  name: string;
  tagCount: number;
  manifestCount: number;
  blobCount: number;
  /** Its blobs (each once) and manifests: what a full copy of it would take. */
  size: number;
  /** The part of `size` no other repository shares: what deleting it frees (blobs once GC runs). */
  uniqueSize: number;
  createdAt: number;
  /** The latest manifest push or tag move; null when nothing was pushed. */
  lastPushedAt: number | null;
  /** The `[[upstream]]` this repository caches (a read-only mirror), or null for an ordinary one. */
  mirrorOf: string | null;
}

/** One repository with its tags, as `mcr repo show --json` and `/v1/repositories/<name>` show it. */
export interface RepositoryDetail extends RepositorySummary {
  tags: TagDetail[];
}

/** Registry-wide totals, to see how much sharing saves and what GC could reclaim. */
export interface RegistryTotals {
  repositories: number;
  /** Bytes the store holds: every blob once, plus every manifest. */
  storedSize: number;
  /** Bytes of blobs no repository serves any more (GC reclaims them after its grace period). */
  unreferencedSize: number;
}

/** A page of summaries and the name to continue after; null at the end. */
export interface RepositoryPage {
  repositories: RepositorySummary[];
  next: string | null;
}

/** Largest page of summaries one call returns. */
export const MAX_REPOSITORY_PAGE = 1000;

/** Summaries of repositories in name order, `limit` of them after `after`. */
export async function listRepositorySummaries(reg: Registry, limit: number, after?: string): Promise<RepositoryPage> {
  const size = Math.max(1, Math.min(Math.trunc(limit) || 1, MAX_REPOSITORY_PAGE));
  const rows = await repositoryUsage(reg.db, { limit: size + 1, after });
  const page = rows.slice(0, size);
  const mirrors = await mirrorUpstreams(reg.db, page.map((r) => r.name));
  const repositories = page.map((row) => summaryOf(row, mirrors.get(row.name) ?? null));
  return { repositories, next: rows.length > size ? repositories[repositories.length - 1]!.name : null };
}

/** Every repository's summary in name order, read page by page, and the registry's totals. */
export async function listAllRepositories(reg: Registry): Promise<{ repositories: RepositorySummary[]; totals: RegistryTotals }> {
  const repositories: RepositorySummary[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await listRepositorySummaries(reg, MAX_REPOSITORY_PAGE, after);
    repositories.push(...page.repositories);
    if (page.next === null) break;
    after = page.next;
  }
  return { repositories, totals: await registryTotals(reg) };
}

/** What the whole registry stores. */
export async function registryTotals(reg: Registry): Promise<RegistryTotals> {
  const row = await registryUsage(reg.db);
  return { repositories: row.repositories, storedSize: row.blob_bytes + row.manifest_bytes, unreferencedSize: row.orphan_bytes };
}

/** Repository `name` with its tags; throws NAME_UNKNOWN. */
export async function getRepositoryDetail(reg: Registry, name: string): Promise<RepositoryDetail> {
  checkRepositoryName(name);
  const row = (await repositoryUsage(reg.db, { limit: 1, names: [name] }))[0];
  if (!row) fail("NAME_UNKNOWN", "repository name not known to registry", { name });
  const mirrorOf = (await mirrorUpstreams(reg.db, [row.name])).get(row.name) ?? null;
  return { ...summaryOf(row, mirrorOf), tags: await describeTags(reg, row.id) };
}

/** What a repository delete removed. */
export interface DeletedRepository {
  name: string;
  tags: number;
  manifests: number;
  /** Blob memberships removed; the blobs themselves stay for other repositories and GC. */
  blobs: number;
  /** Upload sessions cancelled. */
  uploads: number;
}

/**
 * Deletes repository `name`: its tags, manifests, blob memberships and
 * upload sessions, in one transaction. Blobs are left for GC, so other
 * repositories sharing them keep serving them. Throws NAME_UNKNOWN.
 * Audited as `repository.deleted`.
 */
export async function deleteRepository(reg: Registry, name: string, by: AuditContext): Promise<DeletedRepository> {
  checkRepositoryName(name);
  const { deleted, uploadIds } = await reg.db.transaction().execute(async (trx) => {
    const id = await findRepositoryId(trx, name);
    if (id === null) fail("NAME_UNKNOWN", "repository name not known to registry", { name });
    const usage = (await repositoryUsage(trx, { limit: 1, names: [name] }))[0]!;
    const uploadIds = await uploadIdsOf(trx, id);
    await deleteRepositoryRow(trx, id);
    const deleted: DeletedRepository = { name, tags: usage.tag_count, manifests: usage.manifest_count, blobs: usage.blob_count, uploads: uploadIds.length };
    return { deleted, uploadIds };
  });
  // The rows are gone, so no request can reach these bytes any more.
  for (const id of uploadIds) await reg.store.abortUpload(id);
  const { name: _name, ...counts } = deleted;
  reg.audit.record({ ...by, event: "repository.deleted", outcome: "success", repository: name, detail: counts });
  return deleted;
}

/** A usage row as the summary the listings show; `mirrorOf` names the upstream a mirror repository caches. */
export function summaryOf(row: RepositoryUsageRow, mirrorOf: string | null = null): RepositorySummary {
  return {
    name: row.name,
    tagCount: row.tag_count,
    manifestCount: row.manifest_count,
    blobCount: row.blob_count,
    size: row.blob_bytes + row.manifest_bytes,
    uniqueSize: row.unique_blob_bytes + row.manifest_bytes,
    createdAt: row.created_at,
    lastPushedAt: row.last_push_at,
    mirrorOf,
  };
}
