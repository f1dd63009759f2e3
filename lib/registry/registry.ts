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
import { FsBlobStore } from "../storage/fs-store.ts";
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
}

/** Opens (creating and migrating as needed) the registry kept in `dataDir`. */
export async function openRegistry(dataDir: string, options: RegistryOptions = {}): Promise<Registry> {
  const limits = resolveLimits(options.limits);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const store = new FsBlobStore(dataDir);
  const { db, close } = await openDatabase(store.layout.database, {
    busyTimeoutMs: limits.databaseBusyTimeoutMs,
    checkpointPages: options.checkpointPages,
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
