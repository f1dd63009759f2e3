/**
 * @module One manifest as the web UI shows it: for an index, the manifests
 * it lists with their platforms; for an image, its layers and the parts of
 * its config people look for (created, entrypoint, cmd, env, labels,
 * ports, history); its annotations; and the referrers pointing at it as a
 * tree (signatures, SBOMs, attestations, and what refers to those).
 * Reading it here is not a pull: it moves neither the last-pulled time nor
 * GC's last-used time.
 */
import { manifestPulledAt } from "../db/queries/browse.ts";
import { findManifestByDigest, findManifestByTag } from "../db/queries/manifests.ts";
import { fail } from "../errors.ts";
import { indexMediaTypes } from "../oci/media-types.ts";
import { checkRepositoryName } from "../oci/names.ts";
import { listReferrers, type ReferrerDescriptor } from "./referrers.ts";
import type { Registry } from "./registry.ts";
import { parseJson, platformText, readConfigBytes, shownArtifactType } from "./tag-details.ts";

/** What a manifest is: a runnable image, a list of them, or something else (signature, SBOM, chart). */
export type ManifestKind = "image" | "index" | "artifact";

/** A descriptor the manifest lists (layer, child manifest). */
export interface DescriptorView {
  mediaType: string;
  digest: string;
  size: number;
  platform: string | null;
  artifactType: string | null;
  annotations: Record<string, string>;
}

/** The parts of an image config the UI shows. */
export interface ConfigView {
  digest: string;
  size: number;
  created: string | null;
  platform: string | null;
  entrypoint: string[] | null;
  cmd: string[] | null;
  workingDir: string | null;
  user: string | null;
  env: string[];
  labels: Record<string, string>;
  exposedPorts: string[];
  history: { created: string | null; createdBy: string | null; comment: string | null; emptyLayer: boolean }[];
}

/** A referrer and the referrers of it. */
export interface ReferrerNode extends ReferrerDescriptor {
  children: ReferrerNode[];
}

/** One manifest in detail. */
export interface ImageView {
  repository: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  kind: ManifestKind;
  size: number;
  subject: string | null;
  pushedAt: number;
  /** The last GET or HEAD of it (recorded every few seconds); null: never. */
  lastPulledAt: number | null;
  manifests: DescriptorView[];
  layers: DescriptorView[];
  config: ConfigView | null;
  annotations: Record<string, string>;
  referrers: ReferrerNode[];
}

/** How deep the referrers tree goes, and how many nodes it holds at most. */
const REFERRER_DEPTH = 4;
const REFERRER_NODES = 500;

/** Manifest `reference` (tag or digest) of repository `name`; throws MANIFEST_UNKNOWN. */
export async function viewManifest(reg: Registry, name: string, reference: string): Promise<ImageView> {
  checkRepositoryName(name);
  const row = reference.includes(":") ? await findManifestByDigest(reg.db, name, reference) : await findManifestByTag(reg.db, name, reference);
  if (!row) fail("MANIFEST_UNKNOWN", "manifest unknown to registry", { reference });
  const doc = record(parseJson(row.content));
  const isIndex = indexMediaTypes.includes(row.media_type);
  const artifactType = shownArtifactType(row.artifact_type);
  const kind: ManifestKind = isIndex ? "index" : artifactType !== null ? "artifact" : "image";
  const configDescriptor = isIndex ? null : descriptor(doc.config);
  const budget = { nodes: REFERRER_NODES };
  return {
    repository: name,
    digest: row.digest,
    mediaType: row.media_type,
    artifactType,
    kind,
    size: row.size,
    subject: row.subject,
    pushedAt: row.created_at,
    lastPulledAt: await manifestPulledAt(reg.db, row.id),
    manifests: isIndex ? list(doc.manifests) : [],
    layers: isIndex ? [] : list(doc.layers),
    config: kind === "image" && configDescriptor ? await readConfig(reg, configDescriptor) : null,
    annotations: strings(doc.annotations),
    referrers: await referrerTree(reg, name, row.digest, REFERRER_DEPTH, budget),
  };
}

async function referrerTree(reg: Registry, name: string, digest: string, depth: number, budget: { nodes: number }): Promise<ReferrerNode[]> {
  if (depth === 0 || budget.nodes <= 0) return [];
  const page = await listReferrers(reg, name, digest, { n: budget.nodes });
  budget.nodes -= page.manifests.length;
  const nodes: ReferrerNode[] = [];
  for (const m of page.manifests) nodes.push({ ...m, children: await referrerTree(reg, name, m.digest, depth - 1, budget) });
  return nodes;
}

async function readConfig(reg: Registry, d: DescriptorView): Promise<ConfigView | null> {
  const bytes = await readConfigBytes(reg, d.digest);
  if (!bytes) return null;
  const doc = record(parseJson(bytes));
  const c = record(doc.config);
  const history = Array.isArray(doc.history) ? doc.history.slice(0, 500).map(record) : [];
  return {
    digest: d.digest,
    size: d.size,
    created: str(doc.created),
    platform: platformText(doc),
    entrypoint: stringList(c.Entrypoint),
    cmd: stringList(c.Cmd),
    workingDir: str(c.WorkingDir),
    user: str(c.User),
    env: stringList(c.Env) ?? [],
    labels: strings(c.Labels),
    exposedPorts: Object.keys(record(c.ExposedPorts)),
    history: history.map((h) => ({ created: str(h.created), createdBy: str(h.created_by), comment: str(h.comment), emptyLayer: h.empty_layer === true })),
  };
}

function list(value: unknown): DescriptorView[] {
  return Array.isArray(value) ? value.map(descriptor).filter((d): d is DescriptorView => d !== null) : [];
}

function descriptor(value: unknown): DescriptorView | null {
  const d = record(value);
  if (typeof d.digest !== "string") return null;
  return {
    mediaType: str(d.mediaType) ?? "",
    digest: d.digest,
    size: typeof d.size === "number" ? d.size : 0,
    platform: platformText(record(d.platform)),
    artifactType: str(d.artifactType),
    annotations: strings(d.annotations),
  };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function stringList(value: unknown): string[] | null {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : null;
}

/** String entries of an object (annotations, labels); anything else is dropped. */
function strings(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(record(value)).filter((e): e is [string, string] => typeof e[1] === "string"));
}

