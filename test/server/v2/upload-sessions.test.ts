/**
 * @module Open upload sessions, bounded per account (anonymous pushers per
 * address) and in total, atomically, with idle sessions reclaimed under
 * pressure and active ones kept. A 429 names the limit it hit.
 */
import { describe, expect, spyOn, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { addUser } from "../../../lib/auth/users.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { defaultRules } from "../../../lib/policy/defaults.ts";
import { applyPolicy } from "../../../lib/policy/store.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { startUpload } from "../../../lib/registry/uploads.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { basicAuth } from "../../support/credentials.ts";

const BOB = basicAuth("bob", "bob-password-123");

async function post(t: TestApp, repo: string, auth?: string): Promise<Response> {
  return t.request("POST", `/v2/${repo}/blobs/uploads/`, auth ? { headers: { Authorization: auth } } : {});
}

async function session(t: TestApp, repo: string, auth?: string): Promise<string> {
  const res = await post(t, repo, auth);
  expect(res.status).toBe(202);
  return res.headers.get("location")!;
}

/** The 429's message and detail, after checking it is one. */
async function refusal(res: Response): Promise<{ message: string; detail: { limit: string; max: number; open: number } }> {
  expect(res.status).toBe(429);
  expect(res.headers.get("retry-after")).toBe("60");
  const body = (await res.json()) as { errors: { code: string; message: string; detail: { limit: string; max: number; open: number } }[] };
  expect(body.errors[0]!.code).toBe("TOOMANYREQUESTS");
  return body.errors[0]!;
}

function uploadFiles(t: TestApp): string[] {
  return readdirSync(join(t.dataDir, "uploads"));
}

describe("per account", () => {
  test("an account past maxUploadSessionsPerUser gets 429 naming that limit; another account still opens sessions", async () => {
    const t = await testApp({ limits: { maxUploadSessionsPerUser: 3, maxUploadSessions: 100 } });
    await addUser(t.reg, { name: "bob", password: "bob-password-123" }, "test");
    for (let i = 0; i < 3; i++) await session(t, "per/admin");
    const refused = await refusal(await post(t, "per/admin"));
    expect(refused.message).toContain("user:admin has 3 upload sessions open");
    expect(refused.message).toContain("maxUploadSessionsPerUser = 3");
    expect(refused.detail).toMatchObject({ limit: "maxUploadSessionsPerUser", max: 3, open: 3 });
    // A single-request upload opens a session too, so it is refused the same way.
    const digest = sha256Digest("x");
    expect((await refusal(await t.request("POST", `/v2/per/admin/blobs/uploads/?digest=${digest}`, { body: "x" }))).detail.limit).toBe("maxUploadSessionsPerUser");
    for (let i = 0; i < 3; i++) await session(t, "per/bob", BOB);
    expect((await t.reg.db.selectFrom("uploads").select("id").execute()).length).toBe(6);
    await t.close();
  });

  test("anonymous pushers are counted per address, IPv6 addresses per /64", async () => {
    const t = await testApp({ limits: { maxUploadSessionsPerUser: 2 } });
    await applyPolicy(t.reg, [...defaultRules, { id: "drop", priority: 0, effect: "allow", subjects: ["*"], actions: ["pull", "push"], repositories: ["drop/**"], enabled: true, description: "" }], "test");
    const from = (address: string) =>
      t.app.fetch(new Request("http://registry.test/v2/drop/box/blobs/uploads/", { method: "POST" }), { requestIP: () => ({ address }) });
    for (const address of ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9"]) expect((await from(address)).status).toBe(202);
    const refused = await refusal(await from("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
    expect(refused.message).toContain("anonymous@2001:db8:1:2::/64");
    expect((await from("2001:db8:1:3::1")).status).toBe(202);
    expect((await from("192.0.2.7")).status).toBe(202);
    expect((await from("192.0.2.7")).status).toBe(202);
    expect((await refusal(await from("192.0.2.7"))).detail.limit).toBe("maxUploadSessionsPerUser");
    expect((await from("192.0.2.8")).status).toBe(202);
    await t.close();
  });
});

describe("registry-wide", () => {
  test("the 429 at maxUploadSessions names that limit, and a refused session costs the store nothing", async () => {
    const t = await testApp({ limits: { maxUploadSessions: 2 } });
    const begun = spyOn(t.reg.store, "beginUpload");
    await session(t, "all/a");
    await session(t, "all/a");
    const refused = await refusal(await post(t, "all/a"));
    expect(refused.message).toContain("maxUploadSessions = 2");
    expect(refused.detail).toMatchObject({ limit: "maxUploadSessions", max: 2, open: 2 });
    expect(begun).toHaveBeenCalledTimes(2);
    await t.close();
  });

  test("60 POSTs at once, through two database connections, open exactly maxUploadSessions", async () => {
    const t = await testApp({ limits: { maxUploadSessions: 10, maxUploadSessionsPerUser: 1000 } });
    // A second registry on the same files: another connection, as another worker process has.
    const other = await openRegistry(t.dataDir, { limits: t.reg.limits, database: t.database });
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? post(t, "race/a").then((r) => r.status) : startUpload(other, "race/a", "user:admin").then(() => 202))),
    );
    const opened = results.filter((r) => r.status === "fulfilled" && r.value === 202).length;
    expect(opened).toBe(10);
    expect((await t.reg.db.selectFrom("uploads").select("id").execute()).length).toBe(10);
    // Refused requests left no file behind.
    expect(uploadFiles(t).length).toBe(10);
    await other.close();
    await t.close();
  });
});

describe("under pressure", () => {
  test("sessions idle past uploadSessionReclaimIdleMs make room for a new push, bytes and all", async () => {
    const t = await testApp({ limits: { maxUploadSessions: 4, uploadSessionReclaimIdleMs: 60_000 } });
    await addUser(t.reg, { name: "bob", password: "bob-password-123" }, "test");
    let clock = Date.now();
    t.reg.now = () => clock;
    const idle = [await session(t, "press/a"), await session(t, "press/b", BOB), await session(t, "press/b", BOB)];
    const busy = await session(t, "press/a");
    clock += 50_000;
    expect((await t.request("PATCH", busy, { body: "some bytes" })).status).toBe(202);
    clock += 20_000;
    // Full: the three idle for 70 s go, the one written to 20 s ago stays.
    const fresh = await session(t, "press/b", BOB);
    for (const location of idle) expect((await t.request("GET", location)).status).toBe(404);
    expect(uploadFiles(t).length).toBe(2);
    expect((await t.request("PUT", `${busy}?digest=${sha256Digest("some bytes")}`)).status).toBe(201);
    expect((await t.request("PUT", `${fresh}?digest=${sha256Digest("new")}`, { body: "new", headers: { Authorization: BOB } })).status).toBe(201);
    await t.close();
  });

  test("with nothing idle long enough, the registry refuses rather than reclaim", async () => {
    const t = await testApp({ limits: { maxUploadSessions: 2, uploadSessionReclaimIdleMs: 60_000 } });
    let clock = Date.now();
    t.reg.now = () => clock;
    await session(t, "press/c");
    await session(t, "press/c");
    clock += 59_000;
    await refusal(await post(t, "press/c"));
    expect(uploadFiles(t).length).toBe(2);
    await t.close();
  });

  test("an account at its own limit reclaims its own idle sessions, not anyone else's", async () => {
    const t = await testApp({ limits: { maxUploadSessionsPerUser: 2, uploadSessionReclaimIdleMs: 60_000 } });
    await addUser(t.reg, { name: "bob", password: "bob-password-123" }, "test");
    let clock = Date.now();
    t.reg.now = () => clock;
    const bobs = await session(t, "own/b", BOB);
    const [first] = [await session(t, "own/a"), await session(t, "own/a")];
    clock += 61_000;
    await session(t, "own/a");
    expect((await t.request("GET", bobs, { headers: { Authorization: BOB } })).status).toBe(204);
    expect((await t.request("GET", first!)).status).toBe(404);
    await t.close();
  });

  test("a session whose upload is still streaming stays, however long since its last chunk began", async () => {
    // Real time: the session is recorded active by a timer while its request runs.
    const t = await testApp({ limits: { maxUploadSessions: 3, uploadSessionReclaimIdleMs: 1_500 } });
    const streaming = await session(t, "press/s");
    const idle = [await session(t, "press/s"), await session(t, "press/s")];
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        c.enqueue(new TextEncoder().encode("first "));
      },
    });
    const pending = t.request("PATCH", streaming, { body });
    await Bun.sleep(2_500);
    const fresh = await session(t, "press/s");
    for (const location of idle) expect((await t.request("GET", location)).status).toBe(404);
    controller.enqueue(new TextEncoder().encode("last"));
    controller.close();
    expect((await pending).status).toBe(202);
    expect((await t.request("PUT", `${streaming}?digest=${sha256Digest("first last")}`)).status).toBe(201);
    expect((await t.request("GET", fresh)).status).toBe(204);
    await t.close();
  });
});
