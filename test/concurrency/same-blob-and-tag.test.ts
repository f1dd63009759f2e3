/**
 * @module Sixteen clients pushing the same thing at the same moment: the
 * same blob by every upload method, the same manifest to the same tag,
 * and different manifests to one tag. Every push succeeds, the store
 * keeps one copy of each blob, and the tag ends on one of the pushes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Client, digestOf, imageManifest, jsonBytes, location, OCI_CONFIG, OCI_LAYER, randomBytes, withQuery } from "../conformance/client.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

const CLIENTS = 16;
let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess();
});
afterAll(() => server.stop());

const newClient = () => new Client(server.url, server.authHeader);

/** Pushes `bytes` by one of three upload methods, chosen by `i`. */
async function pushBy(client: Client, i: number, repo: string, bytes: Uint8Array): Promise<number> {
  const digest = digestOf(bytes);
  if (i % 3 === 0) return (await client.request("POST", `/v2/${repo}/blobs/uploads/?digest=${digest}`, { body: bytes })).status;
  const start = await client.request("POST", `/v2/${repo}/blobs/uploads/`);
  if (i % 3 === 1) return (await client.request("PUT", withQuery(location(start), { digest }), { body: bytes })).status;
  const half = Math.floor(bytes.byteLength / 2);
  await client.request("PATCH", location(start), { body: bytes.subarray(0, half), headers: { "Content-Range": `0-${half - 1}` } });
  return (await client.request("PUT", withQuery(location(start), { digest }), { body: bytes.subarray(half), headers: { "Content-Range": `${half}-${bytes.byteLength - 1}` } })).status;
}

function blobFiles(): string[] {
  const dir = join(server.dataDir, "blobs", "sha256");
  return readdirSync(dir).flatMap((fan) => readdirSync(join(dir, fan)));
}

describe(`${CLIENTS} clients at once`, () => {
  test("push the same blob, config and manifest to the same tag: all succeed, one copy is kept", async () => {
    const clients = Array.from({ length: CLIENTS }, newClient);
    const layer = randomBytes(256 * 1024);
    const config = jsonBytes({ architecture: "amd64", os: "linux" });
    const before = blobFiles().length;
    const statuses = await Promise.all(clients.map(async (c, i) => [await pushBy(c, i, "same/app", layer), await pushBy(c, i + 1, "same/app", config)]));
    expect(statuses.flat()).toEqual(Array(CLIENTS * 2).fill(201));
    expect(blobFiles().length).toBe(before + 2);

    const manifest = imageManifest({ config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.byteLength }, layers: [{ mediaType: OCI_LAYER, digest: digestOf(layer), size: layer.byteLength }] });
    const puts = await Promise.all(clients.map((c) => c.putManifest("same/app", "latest", manifest)));
    expect(puts.map((r) => r.status)).toEqual(Array(CLIENTS).fill(201));
    const pulled = await newClient().request("GET", "/v2/same/app/manifests/latest");
    expect(digestOf(pulled.body)).toBe(digestOf(manifest));
    const back = await newClient().request("GET", `/v2/same/app/blobs/${digestOf(layer)}`);
    expect(digestOf(back.body)).toBe(digestOf(layer));
    expect(clients.flatMap((c) => c.serverErrors())).toEqual([]);
  });

  test("push different manifests to one tag: all succeed, the tag ends on one of them, and every one stays by digest", async () => {
    const setup = newClient();
    const config = jsonBytes({ architecture: "arm64", os: "linux" });
    await setup.pushBlob("same/race", config);
    const layers = await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
      const bytes = randomBytes(1024 + i);
      return { mediaType: OCI_LAYER, digest: await setup.pushBlob("same/race", bytes), size: bytes.byteLength };
    }));
    const manifests = layers.map((layer) => imageManifest({ config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.byteLength }, layers: [layer] }));
    const clients = manifests.map(newClient);
    const puts = await Promise.all(clients.map((c, i) => c.putManifest("same/race", "latest", manifests[i]!)));
    expect(puts.map((r) => r.status)).toEqual(Array(CLIENTS).fill(201));
    const tagged = digestOf((await setup.request("GET", "/v2/same/race/manifests/latest")).body);
    expect(manifests.map(digestOf)).toContain(tagged);
    for (const m of manifests) expect((await setup.request("HEAD", `/v2/same/race/manifests/${digestOf(m)}`)).status).toBe(200);
    expect((await setup.request("GET", "/v2/same/race/tags/list")).json()).toEqual({ name: "same/race", tags: ["latest"] });
    expect([...clients, setup].flatMap((c) => c.serverErrors())).toEqual([]);
  });
});
