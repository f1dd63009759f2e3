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
  /** Last push, HEAD or GET: what GC's grace period measures from (migration 5). */
  last_seen_at: number;
}

/** A manifest with a `subject`, as the referrers API lists it (migration 6). */
export interface ReferrersTable {
  manifest_id: number;
  repository_id: number;
  subject: string;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  size: number;
  /** JSON object: the manifest's annotations, capped at REFERRER_ANNOTATIONS_MAX_BYTES; null for none. */
  annotations: string | null;
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
  /** Who opened it, as `uploadOwner` names them; '' for sessions from before migration 7. */
  owner: string;
  created_at: number;
  updated_at: number;
  /** Bytes acknowledged so far, hashed into `hash_state`; null when unknown (before migration 11, or after a chunk that failed midway). */
  hashed_size: number | null;
  /** The SHA-256 state after `hashed_size` bytes (lib/storage/sha256-state.ts); null: hash the bytes again. */
  hash_state: string | null;
  /** The request writing the session now (a random id), so only one does, in any process; null when none. */
  writer: string | null;
  /** When the writer's lease lapses unless renewed (ms): a process that died stops blocking the session then. */
  writer_until: number | null;
}

/** Login throttling per (account, client): distinct wrong secrets, as lib/auth/db-throttle.ts counts them. */
export interface LoginPairsTable {
  account: string;
  /** An IPv4 address, an IPv6 /64, or `local`. */
  client: string;
  failures: number;
  last_failure: number;
  /** Fingerprints (keyed hashes) of the last wrong secrets, a JSON array of strings. */
  wrong_json: string;
  /** Last successful login of the pair (ms), 0 when none. */
  last_success: number;
}

/** Login throttling per network (scope `network`) and per account over all clients (scope `account`). */
export interface LoginCountersTable {
  scope: "network" | "account";
  key: string;
  failures: number;
  last_failure: number;
}

/** Roles, from most to least trusted. */
export const roles = ["admin", "user", "guest"] as const;
export type Role = (typeof roles)[number];

/** Humans log in with passwords; robots (CI, scripts) use access tokens. */
export const userKinds = ["human", "robot"] as const;
export type UserKind = (typeof userKinds)[number];

export interface UsersTable {
  id: Generated<number>;
  name: string;
  role: Role;
  kind: UserKind;
  /** argon2id; null for a robot, which has only tokens. */
  password_hash: string | null;
  /** Moves on every password change: a JWT issued from the old password carries the old one (migration 5). */
  password_version: Generated<number>;
  disabled: number;
  created_at: number;
  updated_at: number;
}

/** Personal/robot tokens, admin API sessions and OAuth2 refresh tokens. */
export const tokenKinds = ["token", "session", "refresh"] as const;
export type TokenKind = (typeof tokenKinds)[number];

export interface AccessTokensTable {
  /** Public id, also the first part of the token string. */
  id: string;
  user_id: number;
  kind: TokenKind;
  label: string;
  /** SHA-256 of the secret part; the secret itself is never stored. */
  secret_hash: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  /** For a session or refresh token made with an access token as the password: that token (migration 5). */
  parent_id: string | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  time: number;
  event: string;
  /** `user:NAME`, `robot:NAME` or `anonymous`. */
  actor: string;
  source: string | null;
  repository: string | null;
  digest: string | null;
  tag: string | null;
  outcome: string;
  /** Small JSON object. */
  detail: string | null;
  /** 1 for events retention caps by count (lib/audit/retention.ts `isNoise`), 0 for those it keeps for their full age. */
  noise: number;
}

export interface PolicyRulesTable {
  id: string;
  priority: number;
  effect: string;
  /** JSON arrays of strings. */
  subjects: string;
  actions: string;
  repositories: string;
  enabled: number;
  description: string;
}

/** Where a GC run is: running, or how it ended. */
export const gcStatuses = ["running", "succeeded", "failed"] as const;
export type GcStatus = (typeof gcStatuses)[number];

export interface GcRunsTable {
  id: Generated<number>;
  status: GcStatus;
  /** Who started it, as the audit log names them. */
  actor: string;
  /** JSON: the options it ran with. */
  options: string;
  pid: number;
  host: string;
  started_at: number;
  finished_at: number | null;
  /** JSON: the latest progress, refreshed while it runs. */
  progress: string | null;
  /** JSON: the report, once finished. */
  report: string | null;
  error: string | null;
}

/** The one lock row a GC run holds while it runs. */
export interface GcLockTable {
  name: string;
  run_id: number;
  pid: number;
  host: string;
  started_at: number;
  heartbeat_at: number;
}

/** A digest whose file GC is removing; no blob row may be created for it meanwhile. */
export interface GcClaimsTable {
  digest: string;
  run_id: number;
  created_at: number;
}

/** One retention rule (migration 9); `body` is its JSON, `position` its place in the file. */
export interface RetentionRulesTable {
  id: string;
  position: number;
  body: string;
}

/** When a manifest was last pulled (GET or HEAD), recorded in batches (migration 9). */
export interface ManifestPullsTable {
  manifest_id: number;
  pulled_at: number;
}

/** A repository that caches an upstream (migration 10). */
export interface MirrorRepositoriesTable {
  repository_id: number;
  /** The `[[upstream]]` name it mirrors. */
  upstream: string;
  created_at: number;
}

/** When a mirrored tag was last fetched or revalidated upstream. */
export interface MirrorTagsTable {
  repository_id: number;
  tag: string;
  checked_at: number;
}

/** A reference of a cached manifest to a blob or child manifest not cached yet. */
export interface MirrorPendingTable {
  manifest_id: number;
  digest: string;
  kind: "blob" | "manifest";
}

/** Every table of mcr.db. */
export interface DB {
  meta: MetaTable;
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_blobs: ManifestBlobsTable;
  referrers: ReferrersTable;
  manifest_children: ManifestChildrenTable;
  tags: TagsTable;
  uploads: UploadsTable;
  login_pairs: LoginPairsTable;
  login_counters: LoginCountersTable;
  users: UsersTable;
  access_tokens: AccessTokensTable;
  audit_events: AuditEventsTable;
  policy_rules: PolicyRulesTable;
  gc_runs: GcRunsTable;
  gc_lock: GcLockTable;
  gc_claims: GcClaimsTable;
  retention_rules: RetentionRulesTable;
  manifest_pulls: ManifestPullsTable;
  mirror_repositories: MirrorRepositoriesTable;
  mirror_tags: MirrorTagsTable;
  mirror_pending: MirrorPendingTable;
}

export type Manifest = Selectable<ManifestsTable>;
export type NewManifest = Insertable<ManifestsTable>;
export type Referrer = Selectable<ReferrersTable>;
export type Upload = Selectable<UploadsTable>;
export type User = Selectable<UsersTable>;
export type AccessToken = Selectable<AccessTokensTable>;
export type AuditEvent = Selectable<AuditEventsTable>;
export type NewAuditEvent = Insertable<AuditEventsTable>;
export type GcRun = Selectable<GcRunsTable>;
export type GcLock = Selectable<GcLockTable>;
