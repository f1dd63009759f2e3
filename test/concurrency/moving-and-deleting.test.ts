/**
 * @module Races between readers, writers and deleters of one repository:
 * a tag moved back and forth while clients pull it (every pull is one
 * whole image, never a mix), and a repository emptied (every tag,
 * manifest and blob deleted) while clients push to it (every push either
 * lands whole or is refused cleanly, and no manifest is ever left
 * pointing at a blob its repository does not hold).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { Client, digestOf, imageManifest, jsonBytes, OCI_CONFIG, OCI_LAYER, randomBytes, type PushedImage } from "../conformance/client.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess();
});
afterAll(() => server.stop());

const newClient = () => new Client(server.url, server.authHeader);
const ACCEPT = { Accept: "application/vnd.oci.image.manifest.v1+json" };

describe("a tag moved while it is pulled", () => {
  test("every pull gets one whole image, whichever the tag named at that moment", async () => {
    const pusher = newClient();
    const images: PushedImage[] = [await pusher.pushImage("race/moving", "a", { layerCount: 3, layerSize: 64 * 1024 }), await pusher.pushImage("race/moving", "b", { layerCount: 2, layerSize: 96 * 1024 })];
    const byDigest = new Map(images.map((img) => [img.digest, img]));
    let moving = true;
    const mover = (async () => {
      for (let i = 0; i < 40; i++) {
        const res = await pusher.putManifest("race/moving", "latest", images[i % 2]!.manifest);
        expect(res.status).toBe(201);
      }
      moving = false;
    })();
    const problems: string[] = [];
    let pulls = 0;
    const pullers = Array.from({ length: 6 }, async () => {
      const c = newClient();
      while (moving) {
        const manifest = await c.request("GET", "/v2/race/moving/manifests/latest", { headers: ACCEPT });
        const digest = digestOf(manifest.body);
        if (manifest.headers.get("docker-content-digest") !== digest) problems.push(`Docker-Content-Digest ${manifest.headers.get("docker-content-digest")} for bytes ${digest}`);
        const image = byDigest.get(digest);
        if (!image) {
          problems.push(`latest served ${digest}, which is neither image`);
          continue;
        }
        for (const [i, layer] of image.layers.entries()) {
          const blob = await c.request("GET", `/v2/race/moving/blobs/${layer.digest}`);
          if (blob.status !== 200 || digestOf(blob.body) !== digestOf(image.layerBytes[i]!)) problems.push(`layer ${layer.digest}: ${blob.status}`);
        }
        pulls++;
      }
      problems.push(...c.serverErrors());
    });
    await Promise.all([mover, ...pullers]);
    console.log(`tag moved 40 times while pulled: ${pulls} whole pulls`);
    expect(problems).toEqual([]);
    expect(pulls).toBeGreaterThan(6);
  }, 60_000);
});

describe("a repository emptied while it is pushed to", () => {
  // HOOK(repo delete): when `mcr repo delete` / its /v1 route exists, the deleter should also remove the
  // whole repository that way (in a loop, as below), with the same invariants. Until then it deletes
  // every tag, manifest and blob of the repository through the OCI API.
  test("pushes land whole or are refused with a 4xx; no manifest is left referencing a missing blob", async () => {
    const repo = "race/doomed";
    let pushing = true;
    const outcomes = { pushed: 0, refused: 0, deletedManifests: 0, deletedBlobs: 0 };
    const problems: string[] = [];
    // Half the images share one base layer, which the deleter also deletes whenever nothing references it.
    const base = randomBytes(8192);
    const baseDescriptor = { mediaType: OCI_LAYER, digest: digestOf(base), size: base.byteLength };
    const pushers = Array.from({ length: 4 }, async (_, w) => {
      const c = newClient();
      for (let i = 0; i < 12; i++) {
        try {
          const config = jsonBytes({ os: "linux", architecture: "amd64", w, i });
          const own = randomBytes(4096);
          // Every other image uses the base, which may vanish before its manifest lands; the rest always land.
          const layers = [{ mediaType: OCI_LAYER, digest: await c.pushBlob(repo, own), size: own.byteLength }];
          if (i % 2 === 0) {
            await c.pushBlob(repo, base);
            layers.unshift(baseDescriptor);
          }
          const manifest = imageManifest({ config: { mediaType: OCI_CONFIG, digest: await c.pushBlob(repo, config), size: config.byteLength }, layers });
          await c.pushManifest(repo, `w${w}-${i}`, manifest);
          outcomes.pushed++;
        } catch (error) {
          // The base deleted between its upload and the manifest push: refused, not stored.
          if (!/MANIFEST_BLOB_UNKNOWN/.test((error as Error).message)) problems.push((error as Error).message);
          outcomes.refused++;
        }
      }
      problems.push(...c.serverErrors());
    });
    const deleter = (async () => {
      const c = newClient();
      while (pushing) {
        const tags = await c.request("GET", `/v2/${repo}/tags/list`);
        const names = tags.status === 200 ? ((tags.json() as { tags: string[] }).tags ?? []) : [];
        for (const tag of names) {
          const m = await c.request("GET", `/v2/${repo}/manifests/${tag}`, { headers: ACCEPT });
          if (m.status !== 200) continue;
          const doc = m.json() as { config: { digest: string }; layers: { digest: string }[] };
          if ((await c.request("DELETE", `/v2/${repo}/manifests/${digestOf(m.body)}`)).status === 202) outcomes.deletedManifests++;
          for (const blob of [doc.config, ...doc.layers]) {
            if ((await c.request("DELETE", `/v2/${repo}/blobs/${blob.digest}`)).status === 202) outcomes.deletedBlobs++;
          }
        }
        if ((await c.request("DELETE", `/v2/${repo}/blobs/${baseDescriptor.digest}`)).status === 202) outcomes.deletedBlobs++;
        await Bun.sleep(2);
      }
      problems.push(...c.serverErrors());
    })();
    await Promise.all(pushers);
    pushing = false;
    await deleter;
    console.log(`repository emptied while pushed to: ${JSON.stringify(outcomes)}`);
    expect(problems).toEqual([]);
    expect(outcomes.pushed + outcomes.refused).toBe(48);
    expect(outcomes.pushed).toBeGreaterThanOrEqual(24);
    expect(outcomes.deletedManifests + outcomes.deletedBlobs).toBeGreaterThan(0);

    const db = new Database(join(server.dataDir, "mcr.db"), { readonly: true });
    try {
      expect(db.query("pragma foreign_key_check").all()).toEqual([]);
      const dangling = db
        .query(
          `select m.digest as manifest, mb.digest as blob from manifest_blobs mb join manifests m on m.id = mb.manifest_id
           where not exists (select 1 from repository_blobs rb where rb.repository_id = m.repository_id and rb.digest = mb.digest)`,
        )
        .all();
      expect(dangling).toEqual([]);
    } finally {
      db.close();
    }
    // Whatever survived is served whole.
    const c = newClient();
    const tags = await c.request("GET", `/v2/${repo}/tags/list`);
    for (const tag of tags.status === 200 ? ((tags.json() as { tags: string[] }).tags ?? []) : []) {
      const m = await c.request("GET", `/v2/${repo}/manifests/${tag}`, { headers: ACCEPT });
      const doc = m.json() as { layers: { digest: string }[] };
      for (const layer of doc.layers) expect((await c.request("HEAD", `/v2/${repo}/blobs/${layer.digest}`)).status).toBe(200);
    }
  }, 60_000);
});
