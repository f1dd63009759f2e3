/**
 * @module The `[storage.s3]` configuration made into store options, and
 * the check `mcr config check` runs against the bucket: it reaches it,
 * writes and removes a key, and says what is wrong in words (credentials,
 * a missing bucket, the clock) rather than as an S3 error code.
 */
import { readFileSync } from "node:fs";
import type { Config } from "../config/settings.ts";
import { fail } from "../errors.ts";
import { signedFetch, xmlText } from "./s3-signed.ts";
import { S3BlobStore, type S3StoreOptions } from "./s3-store.ts";

/** Seconds a presigned blob URL stays valid (redirect mode): long enough to start a pull, short enough that a leaked URL soon expires. */
export const PRESIGN_SECONDS = 300;

/** The store options `[storage.s3]` describes, or null when no bucket is set (blobs stay in the data directory). Throws INVALID_ARGUMENT naming what is missing. */
export function s3StoreOptions(s3: Config["storage"]["s3"]): S3StoreOptions | null {
  if (s3.bucket === "") return null;
  let secret = s3.secret_access_key;
  if (secret === null && s3.secret_access_key_file !== null) {
    try {
      secret = readFileSync(s3.secret_access_key_file, "utf8").split("\n")[0]!.trim();
    } catch (error) {
      fail("INVALID_ARGUMENT", `storage.s3.secret_access_key_file: cannot read ${s3.secret_access_key_file}: ${(error as Error).message}`);
    }
  }
  if (s3.access_key_id === "" || !secret) {
    fail("INVALID_ARGUMENT", "storage.s3.bucket is set but access_key_id or secret_access_key (or secret_access_key_file) is not");
  }
  if (s3.prefix !== "" && !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/.test(s3.prefix)) {
    fail("INVALID_ARGUMENT", `storage.s3.prefix "${s3.prefix}" must be path segments ending with / (e.g. mcr/)`);
  }
  return {
    endpoint: s3.endpoint ?? `https://s3.${s3.region}.amazonaws.com`,
    region: s3.region,
    bucket: s3.bucket,
    prefix: s3.prefix,
    accessKeyId: s3.access_key_id,
    secretAccessKey: secret,
    forcePathStyle: s3.force_path_style,
    redirect: s3.redirect,
    presignSeconds: PRESIGN_SECONDS,
  };
}

/** What S3 error codes mean for whoever configured the bucket. */
const ADVICE: Record<string, string> = {
  InvalidAccessKeyId: "the access key id is not known to the endpoint (check storage.s3.access_key_id)",
  SignatureDoesNotMatch: "the secret access key is wrong (check storage.s3.secret_access_key), or the region does not match the endpoint's",
  AccessDenied: "the credentials may not use this bucket (check the user's permissions or the bucket policy)",
  NoSuchBucket: "the bucket does not exist (create it first; mcr does not create buckets)",
  RequestTimeTooSkewed: "this machine's clock is too far from the endpoint's (S3 refuses requests more than 15 minutes off; run NTP)",
  AuthorizationHeaderMalformed: "the region is wrong for this endpoint (check storage.s3.region)",
  PermanentRedirect: "the bucket is in another region, or wants virtual-hosted addressing (check storage.s3.region and force_path_style)",
};

/**
 * Reaches the bucket: lists one key, then writes and removes a probe.
 * Throws UNAVAILABLE saying in words what is wrong. `now` is this
 * machine's clock (tests set it off to play a skewed one).
 */
export async function checkBucket(options: S3StoreOptions, now: () => number = Date.now): Promise<void> {
  const res = await signedFetch(options, { method: "GET", query: { "list-type": "2", "max-keys": "1", prefix: options.prefix } }, new Date(now()));
  const body = await res.text();
  const served = Date.parse(res.headers.get("date") ?? "");
  const skewMinutes = Number.isNaN(served) ? 0 : Math.abs(served - now()) / 60_000;
  if (!res.ok) {
    const code = xmlText(body, "Code") ?? `HTTP ${res.status}`;
    const advice = ADVICE[code] ?? (res.status === 403 && skewMinutes > 5 ? ADVICE.RequestTimeTooSkewed! : `the endpoint answered ${res.status}`);
    fail("UNAVAILABLE", `S3 bucket ${options.bucket} at ${options.endpoint}: ${code}: ${advice}`, { code, status: res.status });
  }
  if (skewMinutes > 5) {
    fail("UNAVAILABLE", `S3 endpoint's clock is ${Math.round(skewMinutes)} minutes from this machine's: ${ADVICE.RequestTimeTooSkewed}`, { skewMinutes });
  }
  await new S3BlobStore(options).probe();
}
