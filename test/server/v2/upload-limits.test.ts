/**
 * @module Upload limits: requests streaming bytes in (blob chunks,
 * manifests) per account and in total, and open upload sessions. A client
 * over a limit gets 429 TOOMANYREQUESTS with Retry-After; the slot of a
 * finished request (however it ended) is free again at once.
 */
import { describe, expect, test } from "bun:test";
import { addUser } from "../../../lib/auth/users.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { basicAuth } from "../../support/credentials.ts";

const BOB = basicAuth("bob", "bob-password-123");

/** A request body that sends `first` now and the rest only when told. */
function heldBody(first: string) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      c.enqueue(new TextEncoder().encode(first));
    },
  });
  return {
    stream,
    finish(rest = "") {
      if (rest) controller.enqueue(new TextEncoder().encode(rest));
      controller.close();
    },
  };
}

async function session(t: TestApp, repo: string, auth?: string): Promise<string> {
  const res = await t.request("POST", `/v2/${repo}/blobs/uploads/`, auth ? { headers: { Authorization: auth } } : {});
  expect(res.status).toBe(202);
  return res.headers.get("location")!;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await Bun.sleep(5);
  expect(condition()).toBe(true);
}

async function expect429(res: Response, text: string): Promise<void> {
  expect(res.status).toBe(429);
  expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
  const body = (await res.json()) as { errors: { code: string; message: string }[] };
  expect(body.errors[0]!.code).toBe("TOOMANYREQUESTS");
  expect(body.errors[0]!.message).toContain(text);
}

describe("concurrent uploads", () => {
  test("one account may stream at most maxConcurrentUploadsPerUser at once; others are not held up", async () => {
    const t = await testApp({ limits: { maxConcurrentUploadsPerUser: 2 } });
    await addUser(t.reg, { name: "bob", password: "bob-password-123" }, "test");
    const [a, b, c] = [await session(t, "lim/a"), await session(t, "lim/a"), await session(t, "lim/a")];
    const bodies = [heldBody("aaaa"), heldBody("bbbb")];
    const pending = [a!, b!].map((location, i) => t.request("PATCH", location, { body: bodies[i]!.stream }));
    await until(() => t.reg.uploadSlots.inUse("user:admin") === 2);

    await expect429(await t.request("PATCH", c!, { body: "cccc" }), "user:admin already has 2 uploads");
    const digest = sha256Digest("small");
    await expect429(await t.request("POST", `/v2/lim/a/blobs/uploads/?digest=${digest}`, { body: "small" }), "already has");
    const bobs = await session(t, "lim/bob", BOB);
    expect((await t.request("PATCH", bobs, { body: "bob", headers: { Authorization: BOB } })).status).toBe(202);

    for (const body of bodies) body.finish("-end");
    for (const res of await Promise.all(pending)) expect(res.status).toBe(202);
    expect(t.reg.uploadSlots.inUse()).toBe(0);
    expect((await t.request("PATCH", c!, { body: "cccc" })).status).toBe(202);
    await t.close();
  });

  test("all accounts together may stream at most maxConcurrentUploads", async () => {
    const t = await testApp({ limits: { maxConcurrentUploads: 2, maxConcurrentUploadsPerUser: 5 } });
    await addUser(t.reg, { name: "bob", password: "bob-password-123" }, "test");
    const held = [heldBody("x"), heldBody("y")];
    const pending = [
      t.request("PATCH", await session(t, "lim/a"), { body: held[0]!.stream }),
      t.request("PATCH", await session(t, "lim/b", BOB), { body: held[1]!.stream, headers: { Authorization: BOB } }),
    ];
    await until(() => t.reg.uploadSlots.inUse() === 2);
    await expect429(await t.request("PATCH", await session(t, "lim/b", BOB), { body: "z", headers: { Authorization: BOB } }), "the registry already has 2");
    for (const h of held) h.finish();
    await Promise.all(pending);
    await t.close();
  });

  test("a manifest being pushed holds a slot too", async () => {
    const t = await testApp({ limits: { maxConcurrentUploadsPerUser: 1 } });
    const held = heldBody('{"schemaVersion":');
    const pending = t.request("PUT", "/v2/lim/m/manifests/v1", { body: held.stream, headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" } });
    await until(() => t.reg.uploadSlots.inUse() === 1);
    await expect429(await t.request("PATCH", await session(t, "lim/m"), { body: "x" }), "already has 1");
    held.finish("2}");
    expect((await pending).status).toBe(400);
    expect(t.reg.uploadSlots.inUse()).toBe(0);
    await t.close();
  });

  test("a failed upload gives its slot back", async () => {
    const t = await testApp({ limits: { maxConcurrentUploadsPerUser: 1 } });
    for (let i = 0; i < 5; i++) {
      const res = await t.request("POST", `/v2/lim/f/blobs/uploads/?digest=${sha256Digest("other")}`, { body: "content" });
      expect(res.status).toBe(400);
    }
    expect(t.reg.uploadSlots.inUse()).toBe(0);
    await t.close();
  });
});

describe("upload sessions", () => {
  test("at most maxUploadSessions are open; cancelling or completing one makes room", async () => {
    const t = await testApp({ limits: { maxUploadSessions: 2 } });
    const first = await session(t, "lim/s");
    const second = await session(t, "lim/s");
    await expect429(await t.request("POST", "/v2/lim/s/blobs/uploads/"), "2 upload sessions are open");
    await expect429(await t.request("POST", `/v2/lim/s/blobs/uploads/?digest=${sha256Digest("x")}`, { body: "x" }), "upload sessions are open");
    expect((await t.request("DELETE", first)).status).toBe(204);
    const third = await session(t, "lim/s");
    expect((await t.request("PUT", `${second}?digest=${sha256Digest("done")}`, { body: "done" })).status).toBe(201);
    expect((await t.request("PUT", `${third}?digest=${sha256Digest("done")}`, { body: "done" })).status).toBe(201);
    expect((await t.request("POST", `/v2/lim/s/blobs/uploads/?digest=${sha256Digest("y")}`, { body: "y" })).status).toBe(201);
    await t.close();
  });
});
