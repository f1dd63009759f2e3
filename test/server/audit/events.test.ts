/**
 * @module Invariant 5 over HTTP: each audited action, done through the API
 * by a real account from a known address, leaves its event with the actor,
 * source, repository, digest and tag filled in. Blob reads leave none.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { auditEventsAfter, latestAuditEventId, type AuditRecord } from "../../../lib/audit/audit-events.ts";
import { addUser } from "../../../lib/auth/users.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushBlob, pushImage, pushManifest } from "../../support/blobs.ts";
import { basicAuth, TEST_ADMIN } from "../../support/credentials.ts";

let t: TestApp;
const ALICE = { authorization: basicAuth("alice", "alice-password") };

beforeAll(async () => {
  t = await testApp();
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
  await addUser(t.reg, { name: "gwen", role: "guest", password: "guest-password" }, "test");
});
afterAll(() => t.close());

/** Runs `action` and returns the events it left. */
async function eventsOf(action: () => Promise<unknown>): Promise<AuditRecord[]> {
  await t.reg.audit.flush();
  const mark = await latestAuditEventId(t.reg);
  await action();
  await t.reg.audit.flush();
  return auditEventsAfter(t.reg, {}, mark, 100);
}

async function expectStatus(res: Promise<Response>, status: number): Promise<Response> {
  const r = await res;
  expect(r.status).toBe(status);
  return r;
}

const byAlice = { actor: "user:alice", source: "127.0.0.1", outcome: "success" };

describe("registry actions", () => {
  test("manifest push → manifest.pushed (tag, digest, media type, size)", async () => {
    let digest = "";
    const events = await eventsOf(async () => {
      const config = await pushBlob(t, "audit/app", "{}");
      const bytes = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: 2 }, layers: [] });
      const res = await expectStatus(t.request("PUT", "/v2/audit/app/manifests/v1", { body: bytes, headers: { ...ALICE, "content-type": "application/vnd.oci.image.manifest.v1+json" } }), 201);
      digest = res.headers.get("docker-content-digest")!;
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ...byAlice, event: "manifest.pushed", repository: "audit/app", tag: "v1", digest });
    expect(events[0]!.detail).toEqual({ mediaType: "application/vnd.oci.image.manifest.v1+json", size: expect.any(Number) });
  });

  test("a push by digest has no tag; re-pushing the same tag target moves nothing", async () => {
    const image = await pushImage(t, "audit/bydigest", "v1");
    const events = await eventsOf(async () => {
      await expectStatus(pushManifest(t, "audit/bydigest", image.digest, image.bytes), 201);
      await expectStatus(pushManifest(t, "audit/bydigest", "v1", image.bytes), 201);
    });
    expect(events.map((e) => [e.event, e.tag, e.digest])).toEqual([
      ["manifest.pushed", null, image.digest],
      ["manifest.pushed", "v1", image.digest],
    ]);
  });

  test("pushing a tag to another manifest → manifest.pushed and tag.moved (from → to)", async () => {
    const first = await pushImage(t, "audit/moving", "latest", ["one"]);
    const second = await pushImage(t, "audit/moving", "other", ["two"]);
    const events = await eventsOf(() => expectStatus(pushManifest(t, "audit/moving", "latest", second.bytes), 201));
    expect(events.map((e) => e.event)).toEqual(["manifest.pushed", "tag.moved"]);
    expect(events[1]).toMatchObject({ event: "tag.moved", actor: "user:admin", repository: "audit/moving", tag: "latest", digest: second.digest, detail: { from: first.digest } });
  });

  test("manifest GET → manifest.pulled, by tag and by digest; HEAD and blob reads → nothing", async () => {
    const image = await pushImage(t, "audit/pull", "v1");
    const events = await eventsOf(async () => {
      await expectStatus(t.request("GET", "/v2/audit/pull/manifests/v1", { headers: ALICE }), 200);
      await expectStatus(t.request("GET", `/v2/audit/pull/manifests/${image.digest}`, { headers: ALICE }), 200);
      await expectStatus(t.request("HEAD", "/v2/audit/pull/manifests/v1", { headers: ALICE }), 200);
      await expectStatus(t.request("GET", `/v2/audit/pull/blobs/${image.manifest.config.digest}`, { headers: ALICE }), 200);
      await expectStatus(t.request("HEAD", `/v2/audit/pull/blobs/${image.manifest.layers[0]!.digest}`, { headers: ALICE }), 200);
    });
    expect(events.map((e) => [e.event, e.tag, e.digest, e.actor])).toEqual([
      ["manifest.pulled", "v1", image.digest, "user:alice"],
      ["manifest.pulled", null, image.digest, "user:alice"],
    ]);
  });

  test("DELETE by tag → tag.deleted with the digest it named", async () => {
    const image = await pushImage(t, "audit/untag", "v1");
    const events = await eventsOf(() => expectStatus(t.request("DELETE", "/v2/audit/untag/manifests/v1", { headers: ALICE }), 202));
    expect(events).toEqual([expect.objectContaining({ ...byAlice, event: "tag.deleted", repository: "audit/untag", tag: "v1", digest: image.digest })]);
  });

  test("DELETE by digest → manifest.deleted with the tags that went with it", async () => {
    const image = await pushImage(t, "audit/delete", "v1");
    await expectStatus(pushManifest(t, "audit/delete", "v2", image.bytes), 201);
    const events = await eventsOf(() => expectStatus(t.request("DELETE", `/v2/audit/delete/manifests/${image.digest}`, { headers: ALICE }), 202));
    expect(events).toEqual([
      expect.objectContaining({ ...byAlice, event: "manifest.deleted", repository: "audit/delete", digest: image.digest, tag: null, detail: { tags: ["v1", "v2"] } }),
    ]);
  });

  test("blob DELETE → blob.deleted", async () => {
    const digest = await pushBlob(t, "audit/blob", "loose blob");
    const events = await eventsOf(() => expectStatus(t.request("DELETE", `/v2/audit/blob/blobs/${digest}`, { headers: ALICE }), 202));
    expect(events).toEqual([expect.objectContaining({ ...byAlice, event: "blob.deleted", repository: "audit/blob", digest })]);
  });

  test("upload DELETE → upload.cancelled with the session and its size; a failed one-request upload → nothing", async () => {
    const started = await expectStatus(t.request("POST", "/v2/audit/upload/blobs/uploads/", { headers: ALICE }), 202);
    const location = started.headers.get("location")!;
    await expectStatus(t.request("PATCH", location, { body: "12345", headers: ALICE }), 202);
    const id = location.split("/").at(-1);
    const events = await eventsOf(async () => {
      await expectStatus(t.request("DELETE", location, { headers: ALICE }), 204);
      const wrong = `sha256:${"0".repeat(64)}`;
      await expectStatus(t.request("POST", `/v2/audit/upload/blobs/uploads/?digest=${wrong}`, { body: "x", headers: ALICE }), 400);
    });
    expect(events).toEqual([expect.objectContaining({ ...byAlice, event: "upload.cancelled", repository: "audit/upload", detail: { id, size: 5 } })]);
  });

  test("DELETE /v1/repositories/<name> → repository.deleted with what went", async () => {
    await pushImage(t, "audit/gone", "v1");
    await pushImage(t, "audit/gone", "v2", ["other"]);
    const events = await eventsOf(() => expectStatus(t.request("DELETE", "/v1/repositories/audit/gone"), 200));
    expect(events).toEqual([
      expect.objectContaining({ event: "repository.deleted", actor: "user:admin", source: "127.0.0.1", repository: "audit/gone", detail: { tags: 2, manifests: 2, blobs: 4, uploads: 0 } }),
    ]);
  });

  test("refused actions leave no success event; the refusal itself is access.denied", async () => {
    const image = await pushImage(t, "audit/denied", "v1");
    const events = await eventsOf(() =>
      expectStatus(t.request("DELETE", `/v2/audit/denied/manifests/${image.digest}`, { headers: { authorization: basicAuth("gwen", "guest-password") } }), 403),
    );
    expect(events).toEqual([expect.objectContaining({ event: "access.denied", actor: "user:gwen", outcome: "denied", repository: "audit/denied", source: "127.0.0.1" })]);
  });
});

describe("account actions", () => {
  test("logins: success at the token endpoint and /v1/auth/login, failures with the address", async () => {
    const events = await eventsOf(async () => {
      await expectStatus(t.request("GET", "/v2/token?service=registry.test&scope=repository:x:pull", { headers: ALICE }), 200);
      await expectStatus(t.request("POST", "/v1/auth/login", { body: JSON.stringify(TEST_ADMIN), headers: { authorization: "" } }), 200);
      await expectStatus(t.request("GET", "/v2/", { headers: { authorization: basicAuth("alice", "wrong-password") } }), 401);
    });
    expect(events.map((e) => [e.event, e.actor, e.outcome, e.source])).toEqual([
      ["login", "user:alice", "success", "127.0.0.1"],
      ["login", "user:admin", "success", "127.0.0.1"],
      ["login", "user:alice", "failure", "127.0.0.1"],
    ]);
  });

  test("/v1 user and token changes → user.added/changed/removed, token.created/revoked, by the admin", async () => {
    const send = (method: string, path: string, body?: unknown) => t.request(method, path, { body: body === undefined ? undefined : JSON.stringify(body) });
    const events = await eventsOf(async () => {
      await expectStatus(send("POST", "/v1/users", { name: "temp", password: "temp-password" }), 201);
      await expectStatus(send("PATCH", "/v1/users/temp", { disabled: true }), 200);
      const created = await expectStatus(send("POST", "/v1/tokens", { user: "temp", name: "t" }), 201);
      const { id } = (await created.json()) as { id: string };
      await expectStatus(send("DELETE", `/v1/tokens/${id}`), 204);
      await expectStatus(send("DELETE", "/v1/users/temp"), 204);
    });
    expect(events.map((e) => e.event)).toEqual(["user.added", "user.changed", "token.created", "token.revoked", "user.removed"]);
    expect(new Set(events.map((e) => e.actor))).toEqual(new Set(["user:admin"]));
  });
});
