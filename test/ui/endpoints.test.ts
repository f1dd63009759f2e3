/**
 * @module The web UI's server side over HTTP, in process: the page and its
 * CSP, the session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS),
 * CSRF on state-changing calls, what anonymous visitors and guests may
 * see and do, and `ui: false`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createToken } from "../../lib/auth/tokens.ts";
import { addUser, setPassword } from "../../lib/auth/users.ts";
import { sha256Digest } from "../../lib/oci/digest.ts";
import { recentAuditEvents } from "../../lib/db/queries/audit.ts";
import { createApp } from "../../server/app.ts";
import { UI_CONTENT_SECURITY_POLICY } from "../../server/ui-pages.ts";
import { testApp, type TestApp } from "../support/app.ts";
import { pushImage, pushManifest } from "../support/blobs.ts";

let t: TestApp;

/** A request as a browser would send it: no Authorization, maybe a cookie. */
function browser(method: string, path: string, init: { cookie?: string; csrf?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { authorization: "", ...init.headers };
  if (init.cookie) headers.cookie = init.cookie;
  if (init.csrf) headers["x-csrf-token"] = init.csrf;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return t.request(method, path, { headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
}

async function login(username: string, password: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await browser("POST", "/v1/ui/login", { body: { username, password } });
  expect(res.status).toBe(200);
  const setCookie = res.headers.get("set-cookie")!;
  const body = (await res.json()) as { csrf: string };
  return { cookie: setCookie.split(";")[0]!, csrf: body.csrf, setCookie };
}

beforeAll(async () => {
  t = await testApp();
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
  await addUser(t.reg, { name: "gwen", role: "guest", password: "gwen-password" }, "test");
  await pushImage(t, "team/app", "v1");
  await pushImage(t, "team/app", "v2", ["other-layer"]);
  await pushImage(t, "other/tool", "latest");
});
afterAll(() => t.close());

describe("the page", () => {
  test("/, the script and the style sheet carry the UI's CSP and the other security headers", async () => {
    for (const path of ["/", "/ui/app.js", "/ui/app.css"]) {
      const res = await browser("GET", path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-security-policy")).toBe(UI_CONTENT_SECURITY_POLICY);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
    }
    expect(UI_CONTENT_SECURITY_POLICY).not.toContain("unsafe");
    expect(UI_CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    const page = await (await browser("GET", "/")).text();
    expect(page).not.toMatch(/<script>|<style>|style=/);
  });

  test("JSON under /v1 keeps the deny-all CSP", async () => {
    const res = await browser("GET", "/v1/browse/repositories");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'; sandbox");
  });

  test("a method other than GET or HEAD on a UI path is 405 with a JSON error, like every other non-/v2 answer", async () => {
    for (const path of ["/", "/index.html", "/ui/app.js"]) {
      const res = await t.request("POST", path, { body: "x" });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD");
      expect(((await res.json()) as { error: string }).error).toContain("GET and HEAD");
    }
    // What the URL parser makes of a hostile path (`/v2/%2E%2E/blobs/..` is `/`) gets the same.
    expect((await t.request("POST", "/v2/%2E%2E/blobs/..", { body: "x" })).status).toBe(405);
    const elsewhere = await t.request("POST", "/somewhere", { body: "x" });
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.json()).toEqual({ error: "not found" });
  });

  test("ui: false serves no page", async () => {
    const off = createApp(t.reg, { auth: t.auth, ui: false });
    const res = await off.fetch(new Request("http://registry.test/"));
    expect(res.status).toBe(404);
  });
});

describe("sessions", () => {
  test("login sets an HttpOnly, SameSite=Strict cookie scoped to /v1/, Secure only over HTTPS", async () => {
    const { setCookie } = await login("alice", "alice-password");
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/v1/");
    expect(setCookie).not.toContain("Secure");
    const res = await t.app.fetch(
      new Request("https://registry.test/v1/ui/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "alice", password: "alice-password" }) }),
    );
    expect(res.headers.get("set-cookie")).toContain("; Secure");
  });

  test("an access token works as the password", async () => {
    const created = await createToken(t.reg, { user: "alice", label: "ui", expiresInMs: null }, "test");
    const s = await login("alice", created.token);
    const me = (await (await browser("GET", "/v1/ui/session", { cookie: s.cookie })).json()) as { user: { name: string } };
    expect(me.user.name).toBe("alice");
  });

  test("a wrong password is 401 and sets no cookie; a cross-site or non-JSON login is refused", async () => {
    const res = await browser("POST", "/v1/ui/login", { body: { username: "alice", password: "wrong-password" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    const cross = await browser("POST", "/v1/ui/login", { body: { username: "alice", password: "alice-password" }, headers: { "sec-fetch-site": "cross-site" } });
    expect(cross.status).toBe(403);
    const form = await t.request("POST", "/v1/ui/login", { headers: { authorization: "", "content-type": "application/x-www-form-urlencoded" }, body: "username=alice" });
    expect(form.status).toBe(400);
  });

  test("the session says who is logged in; logout revokes it", async () => {
    const s = await login("alice", "alice-password");
    const me = (await (await browser("GET", "/v1/ui/session", { cookie: s.cookie })).json()) as { user: { name: string } };
    expect(me.user.name).toBe("alice");
    expect((await browser("POST", "/v1/ui/logout", { cookie: s.cookie })).status).toBe(403); // no CSRF token
    expect((await browser("POST", "/v1/ui/logout", { cookie: s.cookie, csrf: s.csrf })).status).toBe(204);
    expect((await browser("GET", "/v1/browse/repositories", { cookie: s.cookie })).status).toBe(401);
    const after = (await (await browser("GET", "/v1/ui/session", { cookie: s.cookie })).json()) as { user: null };
    expect(after.user).toBeNull();
  });

  test("a password change ends the UI session, as it ends /v1 sessions", async () => {
    await addUser(t.reg, { name: "carol", password: "carol-password" }, "test");
    const s = await login("carol", "carol-password");
    expect((await browser("GET", "/v1/browse/repositories", { cookie: s.cookie })).status).toBe(200);
    await setPassword(t.reg, "carol", "carol-password-2", "test");
    expect((await browser("GET", "/v1/browse/repositories", { cookie: s.cookie })).status).toBe(401);
  });
});

describe("who sees what", () => {
  test("anonymous visitors see nothing by default, and cannot tell a repository exists", async () => {
    const page = (await (await browser("GET", "/v1/browse/repositories")).json()) as { repositories: unknown[]; matched: number };
    expect(page).toMatchObject({ repositories: [], matched: 0 });
    expect((await browser("GET", "/v1/browse/repository?name=team/app")).status).toBe(404);
    expect((await browser("GET", "/v1/browse/repository?name=no/such")).status).toBe(404);
    expect((await browser("GET", "/v1/audit")).status).toBe(401);
  });

  test("a user finds repositories by search, with sizes and tag counts", async () => {
    const s = await login("alice", "alice-password");
    const page = (await (await browser("GET", "/v1/browse/repositories?q=APP", { cookie: s.cookie })).json()) as {
      repositories: { name: string; tagCount: number; size: number; uniqueSize: number }[];
      matched: number;
    };
    expect(page.matched).toBe(1);
    expect(page.repositories[0]).toMatchObject({ name: "team/app", tagCount: 2 });
    expect(page.repositories[0]!.size).toBeGreaterThan(0);
    const repo = (await (await browser("GET", "/v1/browse/repository?name=team/app", { cookie: s.cookie })).json()) as {
      tags: { name: string; lastPulledAt: number | null }[];
      canDelete: boolean;
    };
    expect(repo.tags.map((x) => x.name).sort()).toEqual(["v1", "v2"]);
    expect(repo.canDelete).toBe(true);
  });

  test("a guest sees no delete right, and the delete call is refused (403) and audited", async () => {
    const s = await login("gwen", "gwen-password");
    const repo = (await (await browser("GET", "/v1/browse/repository?name=team/app", { cookie: s.cookie })).json()) as { canDelete: boolean };
    expect(repo.canDelete).toBe(false);
    const res = await browser("DELETE", "/v1/browse/manifest?name=team/app&reference=v1", { cookie: s.cookie, csrf: s.csrf });
    expect(res.status).toBe(403);
    await t.reg.audit.flush?.();
    const events = await recentAuditEvents(t.reg.db, 20);
    expect(events.some((e) => e.event === "access.denied" && e.actor === "user:gwen" && e.repository === "team/app")).toBe(true);
    expect((await browser("GET", "/v1/audit", { cookie: s.cookie })).status).toBe(403);
  });

  test("deleting with the cookie needs the CSRF token; with it, the tag goes and the audit log says who", async () => {
    const s = await login("alice", "alice-password");
    const path = "/v1/browse/manifest?name=other/tool&reference=latest";
    expect((await browser("DELETE", path, { cookie: s.cookie })).status).toBe(403);
    expect((await browser("DELETE", path, { cookie: s.cookie, csrf: "0".repeat(64) })).status).toBe(403);
    expect((await browser("DELETE", path, { cookie: s.cookie, csrf: s.csrf })).status).toBe(204);
    await t.reg.audit.flush?.();
    const events = await recentAuditEvents(t.reg.db, 20);
    expect(events.some((e) => e.event === "tag.deleted" && e.actor === "user:alice" && e.tag === "latest")).toBe(true);
  });

  test("a tag shows when it was last pulled; viewing it in the UI is not a pull", async () => {
    const s = await login("alice", "alice-password");
    const pulledAt = async () => {
      await t.reg.pulls.flush();
      const repo = (await (await browser("GET", "/v1/browse/repository?name=team/app&q=v2", { cookie: s.cookie })).json()) as { tags: { lastPulledAt: number | null }[] };
      return repo.tags[0]!.lastPulledAt;
    };
    await browser("GET", "/v1/browse/manifest?name=team/app&reference=v2", { cookie: s.cookie });
    expect(await pulledAt()).toBeNull();
    expect((await t.request("GET", "/v2/team/app/manifests/v2", { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).status).toBe(200);
    expect(await pulledAt()).toBeGreaterThan(0);
  });

  test("tags come a page at a time, sorted and filtered by the server", async () => {
    const s = await login("alice", "alice-password");
    const get = async (query: string) =>
      (await (await browser("GET", `/v1/browse/repository?name=team/app&${query}`, { cookie: s.cookie })).json()) as { tags: { name: string }[]; matchedTags: number };
    expect((await get("sort=name")).tags.map((x) => x.name)).toEqual(["v1", "v2"]);
    expect((await get("sort=name&offset=1&limit=1")).tags.map((x) => x.name)).toEqual(["v2"]);
    expect(await get("q=V2")).toMatchObject({ matchedTags: 1, tags: [{ name: "v2" }] });
    expect((await browser("GET", "/v1/browse/repository?name=team/app&sort=size", { cookie: s.cookie })).status).toBe(400);
  });

  test("an index shows its platforms, and its tag says it is an index", async () => {
    const amd = await pushImage(t, "multi/app", "amd");
    const arm = await pushImage(t, "multi/app", "arm", ["arm-layer"]);
    const index = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: amd.digest, size: amd.bytes.byteLength, platform: { os: "linux", architecture: "amd64" } },
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: arm.digest, size: arm.bytes.byteLength, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      ],
    };
    const bytes = new TextEncoder().encode(JSON.stringify(index));
    expect((await pushManifest(t, "multi/app", "latest", bytes, "application/vnd.oci.image.index.v1+json")).status).toBe(201);
    const s = await login("alice", "alice-password");
    const view = (await (await browser("GET", "/v1/browse/manifest?name=multi/app&reference=latest", { cookie: s.cookie })).json()) as {
      kind: string;
      digest: string;
      manifests: { platform: string }[];
      config: unknown;
    };
    expect(view).toMatchObject({ kind: "index", digest: sha256Digest(bytes), config: null });
    expect(view.manifests.map((m) => m.platform)).toEqual(["linux/amd64", "linux/arm64/v8"]);
    const repo = (await (await browser("GET", "/v1/browse/repository?name=multi/app&q=latest", { cookie: s.cookie })).json()) as {
      tags: { platforms: string[]; mediaType: string }[];
    };
    expect(repo.tags[0]).toMatchObject({ mediaType: "application/vnd.oci.image.index.v1+json", platforms: ["linux/amd64", "linux/arm64/v8"] });
  });

  test("a manifest view shows config and layers; bad parameters are 400, not 500", async () => {
    const s = await login("alice", "alice-password");
    const view = (await (await browser("GET", "/v1/browse/manifest?name=team/app&reference=v1", { cookie: s.cookie })).json()) as {
      kind: string;
      layers: unknown[];
      config: { platform: string };
    };
    expect(view.kind).toBe("image");
    expect(view.layers).toHaveLength(2);
    expect(view.config.platform).toBe("linux/amd64");
    expect((await browser("GET", "/v1/browse/manifest?name=team/app", { cookie: s.cookie })).status).toBe(400);
    expect((await browser("GET", "/v1/browse/repository?name=Bad%20Name", { cookie: s.cookie })).status).toBe(400);
    expect((await browser("GET", "/v1/browse/repositories?limit=0", { cookie: s.cookie })).status).toBe(400);
  });
});
