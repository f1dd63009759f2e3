/**
 * @module The typed shape of mcr.db, as Kysely sees it. Times are Unix
 * milliseconds; sizes are bytes. Columns are nullable, never optional.
 */
import type { Generated, Insertable, Selectable } from "kysely";

export interface MetaTable {
  key: string;
  value: string;
}

export interface RepositoriesTable {
  id: Generated<number>;
  name: string;
  created_at: number;
}

export interface BlobsTable {
  digest: string;
  size: number;
  created_at: number;
  /** Last push, mount, HEAD or GET: what GC's grace period measures from. */
  last_seen_at: number;
}

export interface RepositoryBlobsTable {
  repository_id: number;
  digest: string;
  created_at: number;
}

export interface ManifestsTable {
  id: Generated<number>;
  repository_id: number;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  subject: string | null;
  /** The pushed bytes, byte-exact: the digest is computed over them. */
  content: Uint8Array;
  size: number;
  created_at: number;
}

export interface ManifestBlobsTable {
  manifest_id: number;
  digest: string;
}

export interface ManifestChildrenTable {
  manifest_id: number;
  child_id: number;
}

export interface TagsTable {
  repository_id: number;
  name: string;
  manifest_id: number;
  updated_at: number;
}

export interface UploadsTable {
  id: string;
  repository_id: number;
  created_at: number;
  updated_at: number;
}

/** Every table of mcr.db. */
export interface DB {
  meta: MetaTable;
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_blobs: ManifestBlobsTable;
  manifest_children: ManifestChildrenTable;
  tags: TagsTable;
  uploads: UploadsTable;
}

export type Manifest = Selectable<ManifestsTable>;
export type NewManifest = Insertable<ManifestsTable>;
export type Upload = Selectable<UploadsTable>;
