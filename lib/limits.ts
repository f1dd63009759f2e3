/**
 * @module Resource limits, in one place: what one client or all of them
 * together may hold of the server (upload streams, sessions, header
 * bytes, manifest bytes, repository storage) and how long a request waits
 * for the database. Typed values with defaults, so a configuration file
 * can fill them later without touching the code that enforces them.
 */
import { fail } from "./errors.ts";
import { MAX_MANIFEST_BYTES } from "./oci/media-types.ts";

/**
 * Bytes of annotations (as JSON) the referrers API gives per descriptor.
 * Fixed, not configurable: the capped annotations are stored at push time.
 * Entries that would pass it are left out whole; the manifest has them all.
 */
export const REFERRER_ANNOTATIONS_MAX_BYTES = 4096;

/** Referrers one page of the referrers API lists when `n` is absent, and the most it lists whatever `n` asks. */
export const REFERRERS_PAGE_MAX = 1000;

/**
 * The share of `maxUploadSessions` past which the registry is under
 * pressure: a new session then first removes sessions idle for
 * `uploadSessionReclaimIdleMs` (instead of the sweep's 24 hours).
 */
export const UPLOAD_SESSION_PRESSURE = 0.75;

/** Every limit the server enforces. Sizes are bytes, times milliseconds. */
export interface Limits {
  /** Requests streaming bytes to store (blob chunks, manifests) one account may have at once. */
  maxConcurrentUploadsPerUser: number;
  /** The same, for all accounts together. */
  maxConcurrentUploads: number;
  /** Upload sessions open in the whole registry (each holds a file until it completes or is swept). */
  maxUploadSessions: number;
  /** Upload sessions one account may have open; anonymous pushers are counted per address (IPv6 per /64). */
  maxUploadSessionsPerUser: number;
  /**
   * Under pressure (open sessions at UPLOAD_SESSION_PRESSURE of `maxUploadSessions`, or an account
   * at its own limit), sessions idle this long are removed to make room. Longer than the server's
   * idle timeout plus the touch interval, so a request still sending bytes always counts as active.
   */
  uploadSessionReclaimIdleMs: number;
  /** An upload session this old (from its start, however active) is refused and removed. */
  maxUploadSessionAgeMs: number;
  /** Request line and headers together; Bun's parser refuses more than 16 KiB whatever this says. */
  maxHeaderBytes: number;
  /** Largest manifest accepted (the OCI spec asks registries to take at least 4 MiB). */
  maxManifestBytes: number;
  /** Bytes one repository may hold, each of its blobs counted once; null for no quota. */
  repositoryQuotaBytes: number | null;
  /** How long a request waits for another process (GC, an admin command) to release the database. */
  databaseBusyTimeoutMs: number;
  /** Admin API sessions (`/v1/auth/login`) one account may hold, live or ended; a new one deletes the oldest. */
  maxSessionsPerAccount: number;
  /** OAuth2 refresh tokens one account may hold, live or ended; a new one deletes the oldest. */
  maxRefreshTokensPerAccount: number;
}

/** The limits when nothing overrides them. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxConcurrentUploadsPerUser: 32,
  maxConcurrentUploads: 128,
  maxUploadSessions: 10_000,
  // Well below the total: a hundred accounts (or addresses) would have to fill it together.
  maxUploadSessionsPerUser: 1000,
  uploadSessionReclaimIdleMs: 10 * 60 * 1000,
  // CNCF Distribution purges uploads after a week; a slow push of a huge layer must fit.
  maxUploadSessionAgeMs: 7 * 24 * 60 * 60 * 1000,
  maxHeaderBytes: 16 * 1024,
  maxManifestBytes: MAX_MANIFEST_BYTES,
  repositoryQuotaBytes: null,
  databaseBusyTimeoutMs: 10_000,
  // One per client a person uses (a few laptops, CI runners, `mcr login`s); far more is a loop or an attack.
  maxSessionsPerAccount: 50,
  maxRefreshTokensPerAccount: 50,
});

/** `overrides` on top of the defaults, each value checked; throws INVALID_ARGUMENT naming the bad one. */
export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides) as [keyof Limits, unknown][]) {
    if (!(key in DEFAULT_LIMITS)) fail("INVALID_ARGUMENT", `unknown limit ${key}`);
    if (value === undefined) continue;
    if (value === null && key === "repositoryQuotaBytes") {
      limits.repositoryQuotaBytes = null;
      continue;
    }
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
      fail("INVALID_ARGUMENT", `limit ${key} must be a positive integer`, { [key]: value });
    }
    (limits as unknown as Record<string, number>)[key] = value;
  }
  return limits;
}
