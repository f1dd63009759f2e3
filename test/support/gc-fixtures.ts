/**
 * @module Building registry states for GC tests in process: a registry with
 * a clock the test moves, blobs and images pushed through lib/registry, and
 * questions about what is left (rows, links, files).
 */
import { TEST_BY } from "./audit-context.ts";
import { existsSync } from "node:fs";
import { insertClaims } from "../../lib/db/queries/gc-claims.ts";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { putManifest } from "../../lib/registry/manifests.ts";
import { openRegistry, type Registry } from "../../lib/registry/registry.ts";
import { uploadBlob } from "../../lib/registry/uploads.ts";
import { FsLayout } from "../../lib/storage/fs-layout.ts";
import { testDatabase } from "./postgres.ts";
import { tempDir } from "./temp.ts";

const enc = new TextEncoder();
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** A registry in a temp dir whose clock starts at the real time and moves only when told. */
export interface ClockedRegistry {
  reg: Registry;
  dataDir: string;
  layout: FsLayout;
  advance(ms: number): number;
}

export async function clockedRegistry(): Promise<ClockedRegistry> {
  const dataDir = tempDir("gc-");
  const reg = await openRegistry(dataDir, { database: await testDatabase() });
  let clock = Date.now();
  reg.now = () => clock;
  return { reg, dataDir, layout: new FsLayout(dataDir), advance: (ms) => (clock += ms) };
}

/** A descriptor of a pushed blob. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** Pushes `text` as a blob of repository `repo`. */
export async function pushBlob(reg: Registry, repo: string, text: string): Promise<Descriptor> {
  const digest = sha256Digest(text);
  await uploadBlob(reg, repo, digest, [enc.encode(text)]);
  return { mediaType: "application/vnd.oci.image.layer.v1.tar", digest, size: enc.encode(text).byteLength };
}

/** Pushes an image manifest (config and layers pushed first) under `reference` (a tag, or "" for by digest). */
export async function pushImage(
  reg: Registry,
  repo: string,
  reference: string,
  layers: string[],
  extra: { subject?: Descriptor; artifactType?: string } = {},
): Promise<Descriptor & { blobs: string[] }> {
  const config = await pushBlob(reg, repo, `{"config":"${repo}:${layers.join("+")}"}`);
  const pushed = [];
  for (const text of layers) pushed.push(await pushBlob(reg, repo, text));
  const doc = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    ...(extra.artifactType ? { artifactType: extra.artifactType } : {}),
    config: { ...config, mediaType: "application/vnd.oci.image.config.v1+json" },
    layers: pushed,
    ...(extra.subject ? { subject: extra.subject } : {}),
  };
  return { ...(await pushDocument(reg, repo, reference, doc)), blobs: [config.digest, ...pushed.map((p) => p.digest)] };
}

/** Pushes an image index over `children` under `reference` (a tag, or "" for by digest). */
export async function pushIndex(reg: Registry, repo: string, reference: string, children: Descriptor[]): Promise<Descriptor> {
  const doc = { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: children };
  return pushDocument(reg, repo, reference, doc);
}

async function pushDocument(reg: Registry, repo: string, reference: string, doc: { mediaType: string }): Promise<Descriptor> {
  const bytes = enc.encode(JSON.stringify(doc));
  const digest = sha256Digest(bytes);
  await putManifest(reg, repo, reference || digest, null, bytes, TEST_BY);
  return { mediaType: doc.mediaType, digest, size: bytes.byteLength };
}

/** What is left of a blob: its row, the repositories linked to it, its file. */
export async function blobState(reg: Registry, layout: FsLayout, digest: string): Promise<{ row: boolean; repositories: string[]; file: boolean }> {
  const row = await reg.db.selectFrom("blobs").select("digest").where("digest", "=", digest).executeTakeFirst();
  const links = await reg.db
    .selectFrom("repository_blobs as rb")
    .innerJoin("repositories as r", "r.id", "rb.repository_id")
    .select("r.name")
    .where("rb.digest", "=", digest)
    .orderBy("r.name")
    .execute();
  return { row: row !== undefined, repositories: links.map((l) => l.name), file: existsSync(layout.blob(digest)) };
}

/** Digests of the manifests repository `repo` holds, sorted. */
export async function manifestDigests(reg: Registry, repo: string): Promise<string[]> {
  const rows = await reg.db
    .selectFrom("manifests as m")
    .innerJoin("repositories as r", "r.id", "m.repository_id")
    .select("m.digest")
    .where("r.name", "=", repo)
    .orderBy("m.digest")
    .execute();
  return rows.map((r) => r.digest);
}

/** Puts `digest` in the state GC leaves it in mid-sweep: rows gone, claim held by run `runId`, bytes still stored. */
export async function collecting(reg: Registry, digest: string, runId: number): Promise<void> {
  await reg.db.transaction().execute(async (trx) => {
    await trx.deleteFrom("repository_blobs").where("digest", "=", digest).execute();
    await trx.deleteFrom("blobs").where("digest", "=", digest).execute();
    await insertClaims(trx, [digest], runId, reg.now());
  });
}

/** Whether `promise` is still pending after `ms`. */
export async function pendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const marker = Symbol();
  return (await Promise.race([promise.then(() => null, () => null), Bun.sleep(ms).then(() => marker)])) === marker;
}
