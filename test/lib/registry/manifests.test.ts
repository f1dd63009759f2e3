/**
 * @module Manifest pushes at the registry layer: references checked and
 * recorded in one transaction, so a failed push leaves no row behind.
 */
import { describe, expect, test } from "bun:test";
import { RegistryError } from "../../../lib/errors.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { getManifest, putManifest } from "../../../lib/registry/manifests.ts";
import { openRegistry, type Registry } from "../../../lib/registry/registry.ts";
import { uploadBlob } from "../../../lib/registry/uploads.ts";
import { tempDir } from "../../support/temp.ts";

const enc = new TextEncoder();
const BY = { actor: "local:test", source: null };

async function* once(text: string): AsyncIterable<Uint8Array> {
  yield enc.encode(text);
}

async function blob(reg: Registry, repo: string, text: string) {
  const digest = sha256Digest(text);
  await uploadBlob(reg, repo, digest, once(text));
  return { mediaType: "application/octet-stream", digest, size: enc.encode(text).byteLength };
}

function image(config: object, layers: object[]): Uint8Array {
  return enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config, layers }));
}

async function counts(reg: Registry) {
  const count = async (table: "repositories" | "manifests" | "manifest_blobs" | "tags") =>
    Number((await reg.db.selectFrom(table).select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
  return { repositories: await count("repositories"), manifests: await count("manifests"), refs: await count("manifest_blobs"), tags: await count("tags") };
}

describe("putManifest", () => {
  test("records the manifest, one reference per blob, and the tag", async () => {
    const reg = await openRegistry(tempDir());
    const config = await blob(reg, "app", "{}");
    const layer = await blob(reg, "app", "layer");
    const bytes = image(config, [layer, layer]);
    const pushed = await putManifest(reg, "app", "v1", null, bytes, BY);
    expect(pushed.digest).toBe(sha256Digest(bytes));
    expect(await counts(reg)).toEqual({ repositories: 1, manifests: 1, refs: 2, tags: 1 });
    expect((await getManifest(reg, "app", "v1")).content).toEqual(bytes);
    await reg.close();
  });

  test("a push that references a missing blob writes nothing, not even the repository", async () => {
    const reg = await openRegistry(tempDir());
    const config = await blob(reg, "other", "{}");
    const bytes = image(config, [{ mediaType: "x/y", digest: sha256Digest("never pushed"), size: 1 }]);
    const before = await counts(reg);
    const error = await putManifest(reg, "fresh", "v1", null, bytes, BY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe("MANIFEST_BLOB_UNKNOWN");
    expect(await counts(reg)).toEqual(before);
    await reg.close();
  });

  test("moving a tag is atomic: it always names exactly one manifest", async () => {
    const reg = await openRegistry(tempDir());
    const config = await blob(reg, "app", "{}");
    const digests = [];
    for (const text of ["a", "b", "c", "d"]) {
      const layer = await blob(reg, "app", text);
      digests.push(sha256Digest(image(config, [layer])));
    }
    const pushes = ["a", "b", "c", "d"].map(async (text) => {
      const layer = { mediaType: "application/octet-stream", digest: sha256Digest(text), size: 1 };
      return putManifest(reg, "app", "latest", null, image(config, [layer]), BY);
    });
    const reads = Array.from({ length: 20 }, () => getManifest(reg, "app", "latest").then((m) => m.digest, () => null));
    await Promise.all(pushes);
    for (const seen of await Promise.all(reads)) {
      if (seen !== null) expect(digests).toContain(seen);
    }
    expect(digests).toContain((await getManifest(reg, "app", "latest")).digest);
    expect((await counts(reg)).tags).toBe(1);
    await reg.close();
  });
});
