/**
 * @module A real S3 (Ceph RADOS Gateway, script/ceph-rgw.ts) shared by every
 * test file of the run: started on first use, killed by PID when the run
 * exits. Each caller gets a bucket of its own. Without the Ceph packages
 * the S3 tests skip with the reason printed, except under CI (CI=true),
 * where they must run and fail instead.
 */
import { join } from "node:path";
import { missingCephTools, startRgw, type Rgw } from "../../script/ceph-rgw.ts";
import { S3BlobStore, type S3StoreOptions } from "../../lib/storage/s3-store.ts";
import { tempDir } from "./temp.ts";

let started: Promise<Rgw> | null = null;

/** Why the S3 tests cannot run here, or null when they can. Under CI a missing tool is an error, not a skip. */
export function rgwUnavailable(): string | null {
  const missing = missingCephTools();
  if (missing.length === 0) return null;
  const reason = `S3 tests skipped: ${missing.join(", ")} not installed (apt-get install ceph-mon ceph-osd radosgw ceph-common)`;
  if (process.env.CI) throw new Error(`${reason}; CI must run them`);
  console.warn(reason);
  return reason;
}

/** The shared gateway, started on first call. */
export function sharedRgw(): Promise<Rgw> {
  started ??= startRgw(join(tempDir("rgw-"), "ceph")).then((rgw) => {
    process.on("exit", () => rgw.stop());
    return rgw;
  });
  return started;
}

/** A new bucket on the shared gateway, and the store options to reach it. */
export async function freshBucket(prefix = ""): Promise<S3StoreOptions> {
  const rgw = await sharedRgw();
  const bucket = `mcr-${crypto.randomUUID().slice(0, 18)}`;
  const options: S3StoreOptions = {
    endpoint: rgw.endpoint,
    region: "us-east-1",
    bucket,
    accessKeyId: rgw.accessKeyId,
    secretAccessKey: rgw.secretAccessKey,
    forcePathStyle: true,
    prefix,
  };
  const res = await fetchSigned(options, "PUT");
  if (!res.ok) throw new Error(`creating bucket ${bucket}: HTTP ${res.status} ${await res.text()}`);
  return options;
}

async function fetchSigned(options: S3StoreOptions, method: "PUT"): Promise<Response> {
  const { signedFetch } = await import("../../lib/storage/s3-signed.ts");
  return signedFetch(options, { method, key: "" });
}

/** An S3 store on a fresh bucket. */
export async function s3Store(prefix = "mcr/"): Promise<S3BlobStore> {
  return new S3BlobStore(await freshBucket(prefix));
}
