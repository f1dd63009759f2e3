/**
 * @module Access to mirror namespaces: reads need `pull` in the policy like
 * any repository (checked on the local name, whichever way the client
 * named it); pushes, deletes, uploads and mounts into a mirror namespace
 * are refused with a clear error, admins included.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addUser } from "../../../lib/auth/users.ts";
import { defaultRules } from "../../../lib/policy/defaults.ts";
import { applyPolicy } from "../../../lib/policy/store.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushImage } from "../../support/blobs.ts";
import { basicAuth, TEST_ADMIN } from "../../support/credentials.ts";
import { errorCode, pullThrough } from "../../support/mirror-pull.ts";
import { hasDistribution, pushUpstream, startDistribution, upstreamConfig, type Distribution } from "../../support/upstream.ts";

describe.skipIf(!hasDistribution)("mirror access", () => {
  let dist: Distribution;
  let t: TestApp;
  const alice = basicAuth("alice", "alice-password-1");

  beforeAll(async () => {
    dist = await startDistribution();
    t = await testApp({ upstreams: [upstreamConfig(dist.url, { isDefault: true })] });
    await addUser(t.reg, { name: "alice", role: "user", password: "alice-password-1" }, "test");
    await pushUpstream(dist.url, dist.auth, "library/guarded", "1");
  });
  afterAll(async () => {
    await t?.close();
    await dist?.stop();
  });

  test("pushes, deletes, uploads and mounts into a mirror namespace are refused with a clear error", async () => {
    const manifest = await t.request("PUT", "/v2/docker.io/library/guarded/manifests/1", { body: "{}", headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" } });
    expect(manifest.status).toBe(403);
    const error = await errorCode(manifest);
    expect(error.code).toBe("DENIED");
    expect(error.message).toContain("read-only mirror");
    await pushImage(t, "local/app", "1");
    const cases: [string, string][] = [
      ["POST", "/v2/docker.io/library/guarded/blobs/uploads/"],
      ["POST", "/v2/docker.io/library/guarded/blobs/uploads/?mount=sha256:" + "a".repeat(64) + "&from=local/app"],
      ["DELETE", "/v2/docker.io/library/guarded/manifests/1"],
      ["DELETE", `/v2/docker.io/library/guarded/blobs/sha256:${"a".repeat(64)}`],
      ["PUT", "/v2/library/guarded/manifests/1?ns=docker.io"],
    ];
    for (const [method, path] of cases) {
      const res = await t.request(method, path, { body: method === "PUT" ? "{}" : undefined });
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 403`);
      expect((await errorCode(res)).message).toContain("read-only mirror");
    }
    // Pushing a new local repository is not taken for the default upstream.
    await pushImage(t, "brand-new", "1");
    expect((await t.request("HEAD", "/v2/brand-new/manifests/1")).status).toBe(200);
  });

  test("the web UI's delete is refused in a mirror namespace too, and offers no delete or push there", async () => {
    await pullThrough(t, "docker.io/library/guarded", "1");
    const login = await t.request("POST", "/v1/ui/login", {
      headers: { authorization: "", "content-type": "application/json" },
      body: JSON.stringify(TEST_ADMIN),
    });
    expect(login.status).toBe(200);
    const session = { authorization: "", cookie: login.headers.get("set-cookie")!.split(";")[0]!, "x-csrf-token": ((await login.json()) as { csrf: string }).csrf };
    const view = (await (await t.request("GET", "/v1/browse/repository?name=docker.io/library/guarded", { headers: session })).json()) as { canDelete: boolean; canPush: boolean };
    expect(view).toMatchObject({ canDelete: false, canPush: false });
    const deleted = await t.request("DELETE", "/v1/browse/manifest?name=docker.io/library/guarded&reference=1", { headers: session });
    expect(deleted.status).toBe(403);
    expect(((await deleted.json()) as { error: string }).error).toContain("read-only mirror");
    expect((await pullThrough(t, "docker.io/library/guarded", "1")).cache).toBe("hit");
  });

  test("pulling needs pull in the policy, decided on the cache's name whichever way it is reached", async () => {
    expect((await pullThrough(t, "docker.io/library/guarded", "1", { authorization: alice })).digest).toMatch(/^sha256:/);
    await applyPolicy(
      t.reg,
      [...defaultRules, { id: "no-mirror", priority: 0, effect: "deny", subjects: ["user:alice"], actions: ["pull"], repositories: ["docker.io/**"], enabled: true, description: "" }],
      "test",
    );
    for (const [path, query] of [
      ["/v2/docker.io/library/guarded/manifests/1", ""],
      ["/v2/library/guarded/manifests/1", "?ns=docker.io"],
      ["/v2/guarded/manifests/1", ""],
    ] as const) {
      const res = await t.request("GET", path + query, { headers: { authorization: alice } });
      expect(`${path}${query} ${res.status}`).toBe(`${path}${query} 403`);
    }
    const anonymous = await t.request("GET", "/v2/docker.io/library/guarded/manifests/1", { headers: { authorization: "" } });
    expect(anonymous.status).toBe(401);
    // The admin bypasses the policy, as for any repository.
    expect((await pullThrough(t, "docker.io/library/guarded", "1")).cache).toBe("hit");
  });

  test("the token flow works for names reached through ?ns= and the default upstream, within the policy", async () => {
    const anonymousPull = { id: "mirror-anonymous", priority: 0, effect: "allow" as const, subjects: ["anonymous"], actions: ["pull" as const], repositories: ["docker.io/**"], enabled: true, description: "" };
    await applyPolicy(t.reg, [...defaultRules, anonymousPull], "test");
    for (const path of ["/v2/library/guarded/manifests/1?ns=docker.io", "/v2/library/guarded/manifests/1"]) {
      const challenged = await t.request("GET", path, { headers: { authorization: "" } });
      // Anonymous callers are allowed by the policy, so no token is needed at all…
      expect(challenged.status).toBe(200);
    }
    // …and a token asked for the name the client knows carries the cache's name too.
    for (const scope of ["repository:library/guarded:pull", "repository:docker.io/library/guarded:pull"]) {
      const issued = await t.request("GET", `/v2/token?service=registry.test&scope=${scope}`, { headers: { authorization: "" } });
      expect(issued.status).toBe(200);
      const { token } = (await issued.json()) as { token: string };
      for (const path of ["/v2/library/guarded/manifests/1?ns=docker.io", "/v2/library/guarded/manifests/1", "/v2/docker.io/library/guarded/manifests/1"]) {
        const res = await t.request("GET", path, { headers: { authorization: `Bearer ${token}`, accept: "application/vnd.oci.image.manifest.v1+json" } });
        expect(`${scope} ${path} ${res.status}`).toBe(`${scope} ${path} 200`);
      }
    }
    // A user the policy denies gets a token without the cache's name, and is refused.
    await applyPolicy(
      t.reg,
      [...defaultRules, { ...anonymousPull, id: "no-alice", effect: "deny", subjects: ["user:alice"] }],
      "test",
    );
    const aliceToken = await t.request("GET", "/v2/token?service=registry.test&scope=repository:library/guarded:pull", { headers: { authorization: alice } });
    const { token } = (await aliceToken.json()) as { token: string };
    const refused = await t.request("GET", "/v2/library/guarded/manifests/1?ns=docker.io", { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(403);
  });
});
