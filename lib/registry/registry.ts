/**
 * @module The registry core: a database and a blob store opened together
 * on one data directory. Every operation in lib/registry takes one.
 */
import { mkdirSync } from "node:fs";
import type { Kysely } from "kysely";
import { AuditLog } from "../audit/audit-log.ts";
import { PolicyEngine } from "../policy/engine.ts";
import { PullRecorder } from "../retention/pull-recorder.ts";
import { openDatabase } from "../db/connection.ts";
import type { DB } from "../db/schema.ts";
import { resolveLimits, type Limits } from "../limits.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { FsLayout } from "../storage/fs-layout.ts";
import { FsBlobStore } from "../storage/fs-store.ts";
import { S3BlobStore, type S3StoreOptions } from "../storage/s3-store.ts";
import { UploadSlots } from "./upload-slots.ts";

/** What registry operations work on. */
export interface Registry {
  db: Kysely<DB>;
  store: BlobStore;
  audit: AuditLog;
  /** The access policy, reloaded when any process changes it. */
  policy: PolicyEngine;
  /** Manifest pulls noted in memory and written in batches (retention's keep_pulled_within). */
  pulls: PullRecorder;
  /** The resource limits this process enforces. */
  limits: Limits;
  /** Uploads streaming into this process now, held against the limits. */
  uploadSlots: UploadSlots;
  /** Where per-installation secrets (the token signing key) live. */
  dataDir: string;
  /** The clock, replaceable in tests. */
  now(): number;
  close(): Promise<void>;
}

/** How to open a registry. */
export interface RegistryOptions {
  /** Overrides of the default limits. */
  limits?: Partial<Limits>;
  /** WAL pages between checkpoints (see DatabaseOptions.checkpointPages; the server sets 10,000). */
  checkpointPages?: number;
  /** The metadata database: a `postgres://` URL, or (by default) the SQLite file in the data directory. */
  database?: string;
  /** The PostgreSQL password when the URL has none (storage.database_password_file or PGPASSWORD). */
  databasePassword?: string;
  /** Keep blobs and uploads in this S3 bucket (`[storage.s3]`) rather than under `dataDir`; the database stays in `dataDir`. */
  s3?: S3StoreOptions | null;
}

/** Opens (creating and migrating as needed) the registry kept in `dataDir`. */
export async function openRegistry(dataDir: string, options: RegistryOptions = {}): Promise<Registry> {
  const limits = resolveLimits(options.limits);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // The one place the store is chosen; nothing past here knows which it is.
  const store = options.s3 ? new S3BlobStore(options.s3) : new FsBlobStore(dataDir);
  const { db, close } = await openDatabase(options.database || new FsLayout(dataDir).database, {
    busyTimeoutMs: limits.databaseBusyTimeoutMs,
    checkpointPages: options.checkpointPages,
    password: options.databasePassword,
  });
  const reg: Registry = {
    db,
    store,
    limits,
    uploadSlots: new UploadSlots(limits),
    dataDir,
    audit: new AuditLog(db, () => reg.now()),
    policy: new PolicyEngine(db),
    pulls: new PullRecorder(db),
    now: Date.now,
    async close() {
      await reg.pulls.flush();
      await reg.audit.drain();
      await close();
    },
  };
  return reg;
}
