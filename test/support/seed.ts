/**
 * @module Fills a registry's database with many repositories at once, for
 * scale tests: rows only (no blob files), shaped like real pushes. Every
 * repository shares two base layers and has its own config and layer,
 * two manifests and three tags.
 */
import { refreshStatistics } from "../../lib/db/queries/maintenance.ts";
import type { Registry } from "../../lib/registry/registry.ts";
import { sha256Digest } from "../../lib/oci/digest.ts";

/** Sizes the seeded rows claim, so tests can compute the expected sums. */
export const SEED = { baseSizes: [30_000_000, 5_000_000], configSize: 1_500, layerSize: 2_000_000 } as const;

/** The manifest a seeded repository holds for `version` (v1, v2). */
export function seedManifest(name: string, version: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, name, version }));
}

/** What `size` and `uniqueSize` of seeded repository `name` must be. */
export function seedSizes(name: string): { size: number; uniqueSize: number } {
  const manifests = seedManifest(name, "v1").byteLength + seedManifest(name, "v2").byteLength;
  const own = SEED.configSize + SEED.layerSize + manifests;
  return { size: SEED.baseSizes[0] + SEED.baseSizes[1] + own, uniqueSize: own };
}

/** Creates repositories `seed-0000` … in batches; returns their names. */
export async function seedRepositories(reg: Registry, count: number): Promise<string[]> {
  const now = reg.now();
  const bases = SEED.baseSizes.map((size, i) => ({ digest: sha256Digest(`base-${i}`), size }));
  const names = Array.from({ length: count }, (_, i) => `seed-${String(i).padStart(4, "0")}`);
  await reg.db.transaction().execute(async (trx) => {
    await trx.insertInto("blobs").values(bases.map((b) => ({ ...b, created_at: now, last_seen_at: now }))).onConflict((oc) => oc.doNothing()).execute();
    for (const name of names) {
      const { id } = await trx.insertInto("repositories").values({ name, created_at: now }).returning("id").executeTakeFirstOrThrow();
      const own = [
        { digest: sha256Digest(`${name}-config`), size: SEED.configSize },
        { digest: sha256Digest(`${name}-layer`), size: SEED.layerSize },
      ];
      await trx.insertInto("blobs").values(own.map((b) => ({ ...b, created_at: now, last_seen_at: now }))).execute();
      const held = [...bases, ...own];
      await trx.insertInto("repository_blobs").values(held.map((b) => ({ repository_id: id, digest: b.digest, created_at: now }))).execute();
      const manifestIds: number[] = [];
      for (const version of ["v1", "v2"]) {
        const content = seedManifest(name, version);
        const row = await trx
          .insertInto("manifests")
          .values({ repository_id: id, digest: sha256Digest(content), media_type: "application/vnd.oci.image.manifest.v1+json", artifact_type: null, subject: null, content, size: content.byteLength, created_at: now, last_seen_at: now })
          .returning("id")
          .executeTakeFirstOrThrow();
        manifestIds.push(row.id);
        await trx.insertInto("manifest_blobs").values(held.map((b) => ({ manifest_id: row.id, digest: b.digest }))).execute();
      }
      await trx
        .insertInto("tags")
        .values([
          { repository_id: id, name: "v1", manifest_id: manifestIds[0]!, updated_at: now },
          { repository_id: id, name: "v2", manifest_id: manifestIds[1]!, updated_at: now },
          { repository_id: id, name: "latest", manifest_id: manifestIds[1]!, updated_at: now },
        ])
        .execute();
    }
  });
  await refreshStatistics(reg.db);
  return names;
}
