/**
 * @module The per-repository storage quota: a push that would take a
 * repository past `repositoryQuotaBytes` is answered 413 DENIED before its
 * bytes are written (or the moment they pass what is left), and nothing
 * of it stays behind.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { FsLayout } from "../../../lib/storage/fs-layout.ts";
import { testApp, type TestApp } from "../../support/app.ts";

const QUOTA = 10_000;
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

async function expectDenied(res: Response): Promise<void> {
  expect(res.status).toBe(413);
  const body = (await res.json()) as { errors: { code: string; message: string; detail: { quota: number } }[] };
  expect(body.errors[0]!.code).toBe("DENIED");
  expect(body.errors[0]!.message).toContain("quota");
  expect(body.errors[0]!.detail.quota).toBe(QUOTA);
}

function storedFiles(t: TestApp): { uploads: string[]; blobs: number } {
  const layout = new FsLayout(t.dataDir);
  const blobs = readdirSync(layout.blobsDir).reduce((n, fan) => n + readdirSync(`${layout.blobsDir}/${fan}`).length, 0);
  return { uploads: readdirSync(layout.uploadsDir), blobs };
}

const push = (t: TestApp, repo: string, content: Uint8Array) =>
  t.request("POST", `/v2/${repo}/blobs/uploads/?digest=${sha256Digest(content)}`, { body: content });

async function session(t: TestApp, repo: string): Promise<string> {
  return (await t.request("POST", `/v2/${repo}/blobs/uploads/`)).headers.get("location")!;
}

describe("repository quota", () => {
  test("a blob that does not fit is refused before a byte is stored; one already held always fits", async () => {
    const t = await testApp({ limits: { repositoryQuotaBytes: QUOTA } });
    expect((await push(t, "q/app", bytes(6000))).status).toBe(201);
    const before = storedFiles(t);
    await expectDenied(await push(t, "q/app", bytes(5000, 2)));
    expect(storedFiles(t)).toEqual(before);
    expect((await push(t, "q/app", bytes(6000))).status).toBe(201);
    expect((await push(t, "q/other", bytes(5000, 2))).status).toBe(201);
    await t.close();
  });

  test("a chunk that does not fit is refused and the session keeps what it had", async () => {
    const t = await testApp({ limits: { repositoryQuotaBytes: QUOTA } });
    expect((await push(t, "q/chunks", bytes(6000))).status).toBe(201);
    const location = await session(t, "q/chunks");
    expect((await t.request("PATCH", location, { body: bytes(3000, 3), headers: { "Content-Range": "0-2999" } })).status).toBe(202);
    await expectDenied(await t.request("PATCH", location, { body: bytes(2000, 3), headers: { "Content-Range": "3000-4999" } }));
    const status = await t.request("GET", location);
    expect(status.headers.get("range")).toBe("0-2999");
    expect((await t.request("PUT", `${location}?digest=${sha256Digest(bytes(3000, 3))}`)).status).toBe(201);
    await t.close();
  });

  test("a body of unknown length is cut off as soon as it passes the quota", async () => {
    const t = await testApp({ limits: { repositoryQuotaBytes: QUOTA } });
    const content = bytes(QUOTA + 1, 4);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < content.byteLength; i += 1000) c.enqueue(content.subarray(i, i + 1000));
        c.close();
      },
    });
    await expectDenied(await t.request("POST", `/v2/q/stream/blobs/uploads/?digest=${sha256Digest(content)}`, { body: stream }));
    expect(storedFiles(t)).toEqual({ uploads: [], blobs: 0 });
    await t.close();
  });

  test("uploads that each fit but not together: the second to complete is refused and discarded", async () => {
    const t = await testApp({ limits: { repositoryQuotaBytes: QUOTA } });
    const [a, b] = [await session(t, "q/race"), await session(t, "q/race")];
    expect((await t.request("PATCH", a, { body: bytes(6000, 5) })).status).toBe(202);
    expect((await t.request("PATCH", b, { body: bytes(6000, 6) })).status).toBe(202);
    expect((await t.request("PUT", `${a}?digest=${sha256Digest(bytes(6000, 5))}`)).status).toBe(201);
    await expectDenied(await t.request("PUT", `${b}?digest=${sha256Digest(bytes(6000, 6))}`));
    expect((await t.request("GET", b)).status).toBe(404);
    expect(storedFiles(t).uploads).toEqual([]);
    await t.close();
  });

  test("a mount over the quota falls back to an upload session, whose upload is then refused", async () => {
    const t = await testApp({ limits: { repositoryQuotaBytes: QUOTA } });
    const big = bytes(8000, 7);
    expect((await push(t, "q/source", big)).status).toBe(201);
    expect((await push(t, "q/target", bytes(4000, 8))).status).toBe(201);
    const mount = await t.request("POST", `/v2/q/target/blobs/uploads/?mount=${sha256Digest(big)}&from=q/source`);
    expect(mount.status).toBe(202);
    await expectDenied(await t.request("PUT", `${mount.headers.get("location")}?digest=${sha256Digest(big)}`, { body: big }));
    expect((await t.request("HEAD", `/v2/q/target/blobs/${sha256Digest(big)}`)).status).toBe(404);
    await t.close();
  });

  test("without a quota (the default) nothing is refused", async () => {
    const t = await testApp();
    expect((await push(t, "q/free", bytes(50_000))).status).toBe(201);
    await t.close();
  });
});
