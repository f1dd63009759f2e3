/**
 * @module fsck on a real data directory: clean after pushes; a flipped byte
 * and a missing file are found (and `mcr fsck` exits 1); --repair deletes
 * only the corrupt bytes, so that no repository offers them any more (HEAD
 * and GET answer BLOB_UNKNOWN, and a push of the same blob works), and
 * closes sessions whose bytes are gone.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fsck } from "../../../lib/maintenance/fsck.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { startUpload } from "../../../lib/registry/uploads.ts";
import { FsLayout } from "../../../lib/storage/fs-layout.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushBlob, pushImage } from "../../support/blobs.ts";
import { runCli } from "../../support/cli.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

let t: TestApp;
let layout: FsLayout;
let layers: string[];

beforeAll(async () => {
  t = await testApp();
  layout = new FsLayout(t.dataDir);
  const { manifest } = await pushImage(t, "fsck/app", "v1", ["layer-one", "layer-two", "layer-three"]);
  layers = manifest.layers.map((l) => l.digest);
});
afterAll(() => t.close());

describe("fsck", () => {
  test("a store written by the registry is clean", async () => {
    const report = await fsck(t.reg);
    expect(report.problems).toEqual([]);
    expect(report.blobs.checked).toBe(4);
    expect(report.manifests.checked).toBe(1);
    const cli = await runCli(["fsck", "--data", t.dataDir]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain("checked 4 blobs");
    expect(cli.stdout).toContain("1 manifests: no corruption");
  });

  test("finds a flipped byte and a missing file, and mcr fsck exits 1 naming them", async () => {
    const flipped = layout.blob(layers[0]!);
    const bytes = readFileSync(flipped);
    bytes[3]! ^= 0x01;
    writeFileSync(flipped, bytes);
    rmSync(layout.blob(layers[1]!));

    const report = await fsck(t.reg);
    expect(report.problems.map((p) => [p.kind, p.subject])).toEqual(
      expect.arrayContaining([
        ["corrupt_blob", layers[0]!],
        ["missing_file", layers[1]!],
      ]),
    );
    expect(report.problems).toHaveLength(2);

    const cli = await runCli(["fsck", "--data", t.dataDir]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(new RegExp(`^corrupt_blob\\s+${layers[0]}: its bytes hash to sha256:`, "m"));
    expect(cli.stdout).toMatch(new RegExp(`^missing_file\\s+${layers[1]}: recorded, but its file is missing`, "m"));
    expect(cli.stdout).toContain("2 problem(s)");
    const json = JSON.parse((await runCli(["fsck", "--json", "--data", t.dataDir])).stdout) as { problems: unknown[] };
    expect(json.problems).toHaveLength(2);
  });

  test("--repair deletes the corrupt bytes (never served again) and closes sessions without bytes; the rest stays reported", async () => {
    const session = await startUpload(t.reg, "fsck/app");
    rmSync(layout.upload(session.id));
    const untouched = readFileSync(layout.blob(layers[2]!));

    // fsck runs in its own process, which knows nothing of the server's sessions in memory.
    const other = await openRegistry(t.dataDir);
    const repaired = await fsck(other, { repair: true }).finally(() => other.close());
    // The image's manifest references the blob: it is named as broken until the blob is pushed again.
    const repair = repaired.problems.find((p) => p.kind === "corrupt_blob")?.repaired;
    expect(repair).toContain("deleted the corrupt file; no repository serves it until it is pushed again");
    expect(repair).toContain("fsck/app@sha256:");
    expect(repaired.notes).toContainEqual(expect.objectContaining({ kind: "upload_without_bytes", subject: session.id, repaired: "closed the session" }));
    // Not present to HEAD either, so a client pushing the image sends the blob again.
    for (const method of ["HEAD", "GET"]) {
      const served = await t.request(method, `/v2/fsck/app/blobs/${layers[0]}`);
      expect(served.status).toBe(404);
      if (method === "GET") expect(((await served.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("BLOB_UNKNOWN");
    }
    expect(readFileSync(layout.blob(layers[2]!))).toEqual(untouched);

    const after = await fsck(t.reg);
    // Both blobs are now missing: that needs a restore or a new push, which fsck cannot do.
    expect(after.problems.map((p) => p.kind).sort()).toEqual(["missing_file", "missing_file"]);
    expect(after.notes.filter((n) => n.kind === "upload_without_bytes")).toEqual([]);
  });

  test("after --repair the same blob pushes again, and the image is whole", async () => {
    expect((await t.request("HEAD", `/v2/fsck/app/blobs/${layers[0]}`)).status).toBe(404);
    expect(await pushBlob(t, "fsck/app", "layer-one")).toBe(layers[0]!);
    expect((await t.request("HEAD", `/v2/fsck/app/blobs/${layers[0]}`)).status).toBe(200);
    const served = await t.request("GET", `/v2/fsck/app/blobs/${layers[0]}`);
    expect(await served.text()).toBe("layer-one");
    const report = await fsck(t.reg);
    expect(report.problems.map((p) => [p.kind, p.subject])).toEqual([["missing_file", layers[1]!]]);
  });

  test("--repair of a corrupt blob no manifest references removes its record: HEAD and GET say BLOB_UNKNOWN, a push works", async () => {
    const digest = await pushBlob(t, "fsck/loose", "a loose blob");
    writeFileSync(layout.blob(digest), "a loose blob, damaged");
    const other = await openRegistry(t.dataDir);
    const repaired = await fsck(other, { repair: true }).finally(() => other.close());
    expect(repaired.problems).toContainEqual(
      expect.objectContaining({ kind: "corrupt_blob", subject: digest, repaired: "deleted the corrupt file and its record; push it again" }),
    );
    for (const method of ["HEAD", "GET"]) expect((await t.request(method, `/v2/fsck/loose/blobs/${digest}`)).status).toBe(404);
    expect((await fsck(t.reg)).problems.filter((p) => p.subject === digest)).toEqual([]);

    expect(await pushBlob(t, "fsck/loose", "a loose blob")).toBe(digest);
    expect((await t.request("HEAD", `/v2/fsck/loose/blobs/${digest}`)).status).toBe(200);
    expect(await (await t.request("GET", `/v2/fsck/loose/blobs/${digest}`)).text()).toBe("a loose blob");
  });

  test("a blob file no row records is a note, not corruption, and is left alone", async () => {
    const stray = "sha256:" + "ab".repeat(32);
    const path = layout.blob(stray);
    await Bun.write(path, "stray");
    const report = await fsck(t.reg, { repair: true });
    expect(report.notes).toContainEqual(expect.objectContaining({ kind: "unrecorded_file", subject: stray }));
    expect(await Bun.file(path).exists()).toBe(true);
  });
});
