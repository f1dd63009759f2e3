/**
 * @module The policy enforced over HTTP, route by route, for several
 * accounts: reads, writes, deletes, the catalog, mounts, referrers, tag
 * immutability and anonymous access, with denials audited.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createToken } from "../../../lib/auth/tokens.ts";
import { addUser } from "../../../lib/auth/users.ts";
import { recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { sha256Digest } from "../../../lib/oci/digest.ts";
import { defaultRules } from "../../../lib/policy/defaults.ts";
import type { Rule } from "../../../lib/policy/rule.ts";
import { applyPolicy } from "../../../lib/policy/store.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushBlob, pushImage, pushManifest } from "../../support/blobs.ts";
import { basicAuth } from "../../support/credentials.ts";

let t: TestApp;
const as: Record<string, string> = { anonymous: "" };
const statuses: number[] = [];

const rule = (id: string, effect: Rule["effect"], subjects: string[], actions: Rule["actions"], repositories: string[], priority = 0): Rule => ({
  id,
  priority,
  effect,
  subjects,
  actions,
  repositories,
  enabled: true,
  description: "",
});

async function call(who: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await t.request(method, path, { body, headers: { ...headers, authorization: as[who]! } });
  statuses.push(res.status);
  return res;
}

async function code(res: Response): Promise<string> {
  return ((await res.json()) as { errors: { code: string }[] }).errors[0]!.code;
}

beforeAll(async () => {
  t = await testApp();
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
  await addUser(t.reg, { name: "gwen", role: "guest", password: "gwen-password" }, "test");
  await addUser(t.reg, { name: "ci", kind: "robot" }, "test");
  await addUser(t.reg, { name: "release", kind: "robot" }, "test");
  as.alice = basicAuth("alice", "alice-password");
  as.gwen = basicAuth("gwen", "gwen-password");
  as.ci = basicAuth("ci", (await createToken(t.reg, { user: "ci", label: "t" }, "test")).token);
  as.release = basicAuth("release", (await createToken(t.reg, { user: "release", label: "t" }, "test")).token);
  // Seeded as admin, before the policy matters.
  for (const repo of ["team/app", "prod/app", "public/base", "ci/app"]) await pushImage(t, repo, "v1");
  await applyPolicy(
    t.reg,
    [
      ...defaultRules.filter((r) => r.id !== "default-guests"),
      rule("ci-push", "allow", ["robot:ci"], ["pull", "push"], ["ci/*"]),
      rule("public-pull", "allow", ["*"], ["pull"], ["public/**"]),
      rule("everyone-lists", "allow", ["authenticated"], ["catalog"], ["**"]),
      rule("prod-release", "allow", ["robot:release"], ["pull", "push", "overwrite"], ["prod/*"]),
      rule("prod-locked", "deny", ["role:user", "role:guest"], ["push", "delete", "overwrite"], ["prod/*"], 100),
      rule("immutable-releases", "deny", ["*"], ["overwrite"], ["team/*"]),
    ],
    "test",
  );
});
afterAll(() => t.close());

describe("reads and writes", () => {
  test.each([
    ["alice", "GET", "/v2/team/app/manifests/v1", 200],
    ["alice", "POST", "/v2/team/app/blobs/uploads/", 202],
    ["alice", "POST", "/v2/prod/app/blobs/uploads/", 403],
    ["alice", "DELETE", "/v2/prod/app/manifests/v1", 403],
    ["gwen", "GET", "/v2/public/base/manifests/v1", 200],
    ["gwen", "GET", "/v2/team/app/manifests/v1", 403],
    ["gwen", "GET", "/v2/team/app/tags/list", 403],
    ["ci", "POST", "/v2/ci/app/blobs/uploads/", 202],
    ["ci", "GET", "/v2/ci/app/manifests/v1", 200],
    ["ci", "POST", "/v2/team/app/blobs/uploads/", 403],
    ["ci", "HEAD", "/v2/team/app/manifests/v1", 403],
    ["release", "POST", "/v2/prod/app/blobs/uploads/", 202],
    ["anonymous", "GET", "/v2/public/base/manifests/v1", 200],
    ["anonymous", "GET", "/v2/team/app/manifests/v1", 401],
    ["anonymous", "POST", "/v2/public/base/blobs/uploads/", 401],
  ] as const)("%s %s %s → %d", async (who, method, path, status) => {
    const res = await call(who, method, path);
    expect(res.status).toBe(status);
    if (status === 403) expect(await code(res)).toBe("DENIED");
  });

  test("denials are audited with the rules that decided them", async () => {
    await call("alice", "POST", "/v2/prod/app/blobs/uploads/");
    await t.reg.audit.flush();
    const denied = (await recentAuditEvents(t.reg.db, 200)).filter((e) => e.event === "access.denied" && e.actor === "user:alice");
    expect(denied.length).toBeGreaterThan(0);
    expect(JSON.parse(denied.at(-1)!.detail!)).toMatchObject({ action: "push", rules: ["prod-locked"] });
    expect(denied.at(-1)!.repository).toBe("prod/app");
  });
});

describe("catalog, referrers, mounts", () => {
  test("the catalog lists only what the caller may pull", async () => {
    const list = async (who: string) => ((await (await call(who, "GET", "/v2/_catalog")).json()) as { repositories: string[] }).repositories;
    expect(await list("alice")).toEqual(["ci/app", "prod/app", "public/base", "team/app"]);
    expect(await list("gwen")).toEqual(["public/base"]);
    expect(await list("ci")).toEqual(["ci/app", "public/base"]);
    const page = await call("gwen", "GET", "/v2/_catalog?n=1");
    expect(((await page.json()) as { repositories: string[] }).repositories).toEqual(["public/base"]);
  });

  test("referrers need pull on the repository", async () => {
    const digest = sha256Digest("x");
    expect((await call("gwen", "GET", `/v2/team/app/referrers/${digest}`)).status).toBe(403);
    expect((await call("gwen", "GET", `/v2/public/base/referrers/${digest}`)).status).toBe(200);
  });

  test("a mount needs pull on the source; otherwise it falls back to an upload", async () => {
    const shared = await pushBlob(t, "team/app", "team-only layer");
    const open = await pushBlob(t, "public/base", "public layer");
    const denied = await call("ci", "POST", `/v2/ci/app/blobs/uploads/?mount=${shared}&from=team/app`);
    expect(denied.status).toBe(202);
    const anywhere = await call("ci", "POST", `/v2/ci/app/blobs/uploads/?mount=${shared}`);
    expect(anywhere.status).toBe(202);
    const allowed = await call("ci", "POST", `/v2/ci/app/blobs/uploads/?mount=${open}&from=public/base`);
    expect(allowed.status).toBe(201);
  });
});

describe("tag immutability", () => {
  test("moving an existing tag needs overwrite; new tags and re-pushing the same manifest do not", async () => {
    const config = await pushBlob(t, "team/app", "{}");
    const manifest = (layer: string) =>
      JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: 2 }, layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layer, size: 1 }] });
    const a = manifest(await pushBlob(t, "team/app", "a"));
    const b = manifest(await pushBlob(t, "team/app", "b"));
    const put = (tag: string, body: string) => call("alice", "PUT", `/v2/team/app/manifests/${tag}`, body, { "content-type": "application/vnd.oci.image.manifest.v1+json" });
    expect((await put("rel-1", a)).status).toBe(201);
    const moved = await put("rel-1", b);
    expect(moved.status).toBe(403);
    expect(await code(moved)).toBe("DENIED");
    // The refused push stored nothing under its digest.
    expect((await call("alice", "GET", `/v2/team/app/manifests/${sha256Digest(b)}`)).status).toBe(404);
    expect((await put("rel-1", a)).status).toBe(201);
    expect((await put("rel-2", b)).status).toBe(201);
    const served = await call("alice", "GET", "/v2/team/app/manifests/rel-1");
    expect(await served.text()).toBe(a);
    // Admins bypass the policy, immutability included.
    expect((await pushManifest(t, "team/app", "rel-1", new TextEncoder().encode(b))).status).toBe(201);
  });
});

describe("anonymous access through the token flow", () => {
  test("a token endpoint request without credentials gets the public pull, and it works", async () => {
    const res = await call("anonymous", "GET", "/v2/token?service=registry.test&scope=repository:public/base:pull,push&scope=repository:team/app:pull");
    const { token } = (await res.json()) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { access: { name: string; actions: string[] }[] };
    expect(claims.access).toEqual([
      { type: "repository", name: "public/base", actions: ["pull"] },
      { type: "repository", name: "team/app", actions: [] },
    ] as never);
    as.anonToken = `Bearer ${token}`;
    expect((await call("anonToken", "GET", "/v2/")).status).toBe(200);
    expect((await call("anonToken", "GET", "/v2/public/base/manifests/v1")).status).toBe(200);
    expect((await call("anonToken", "GET", "/v2/team/app/manifests/v1")).status).toBe(401);
  });

  test("no response was a 500", () => {
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
  });
});
