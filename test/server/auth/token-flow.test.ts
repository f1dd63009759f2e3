/**
 * @module Authentication on /v2 in process: challenges, the token
 * endpoint (GET and OAuth2 POST), Basic and bearer credentials, and every
 * way a credential can be wrong, each answered 401/403/429, never 500.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signJwt } from "../../../lib/auth/jwt.ts";
import { ephemeralSigningKey } from "../../../lib/auth/signing-key.ts";
import { createToken, revokeToken } from "../../../lib/auth/tokens.ts";
import { addUser, removeUser, setDisabled } from "../../../lib/auth/users.ts";
import { recentAuditEvents } from "../../../lib/db/queries/audit.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import type { Rule } from "../../../lib/policy/rule.ts";
import { applyPolicy } from "../../../lib/policy/store.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushBlob, pushImage } from "../../support/blobs.ts";
import { basicAuth } from "../../support/credentials.ts";

let t: TestApp;
const statuses: number[] = [];
const ANON = { authorization: "" };

async function req(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Response> {
  const res = await t.request(method, path, { headers, body });
  statuses.push(res.status);
  return res;
}

async function token(auth: string, scope: string): Promise<string> {
  const res = await req("GET", `/v2/token?service=registry.test&scope=${encodeURIComponent(scope)}`, { authorization: auth });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
  expect(body.access_token).toBe(body.token);
  expect(body.expires_in).toBe(300);
  expect(Date.parse(body.issued_at)).toBeGreaterThan(0);
  return body.token;
}

async function expectError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { errors: { code: string }[] };
  expect(body.errors[0]?.code).toBe(code);
}

beforeAll(async () => {
  t = await testApp();
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
  await addUser(t.reg, { name: "gwen", role: "guest", password: "guest-password" }, "test");
  await addUser(t.reg, { name: "ci", kind: "robot" }, "test");
  await pushImage(t, "app", "v1");
  await pushImage(t, "other", "v1");
  // Robots get nothing by default; this one may pull everywhere.
  const robotsPull: Rule = { id: "robots-pull", priority: 0, effect: "allow", subjects: ["robots"], actions: ["pull"], repositories: ["**"], enabled: true, description: "" };
  await applyPolicy(t.reg, [...(await t.reg.policy.rules()), robotsPull], "test");
});
afterAll(() => t.close());

describe("challenges", () => {
  test("anonymous /v2/ → 401 with a Bearer challenge naming the realm and service", async () => {
    const res = await req("GET", "/v2/", ANON);
    await expectError(res, 401, "UNAUTHORIZED");
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="http://registry.test/v2/token",service="registry.test"');
  });

  test("anonymous access to a repository → 401 with the scope to ask for", async () => {
    const pull = await req("GET", "/v2/app/manifests/v1", ANON);
    await expectError(pull, 401, "UNAUTHORIZED");
    expect(pull.headers.get("www-authenticate")).toContain('scope="repository:app:pull"');
    const push = await req("POST", "/v2/app/blobs/uploads/", ANON);
    expect(push.headers.get("www-authenticate")).toContain('scope="repository:app:pull,push"');
    const catalog = await req("GET", "/v2/_catalog", ANON);
    expect(catalog.headers.get("www-authenticate")).toContain('scope="registry:catalog:*"');
  });
});

describe("the token flow", () => {
  test("GET /v2/token with Basic → a bearer token that works for its scope only", async () => {
    const bearer = `Bearer ${await token(basicAuth("alice", "alice-password"), "repository:app:pull,push")}`;
    expect((await req("GET", "/v2/", { authorization: bearer })).status).toBe(200);
    expect((await req("GET", "/v2/app/manifests/v1", { authorization: bearer })).status).toBe(200);
    const elsewhere = await req("GET", "/v2/other/manifests/v1", { authorization: bearer });
    await expectError(elsewhere, 401, "UNAUTHORIZED");
    expect(elsewhere.headers.get("www-authenticate")).toContain('scope="repository:other:pull"');
    await expectError(await req("DELETE", "/v2/app/manifests/v1", { authorization: bearer }), 401, "UNAUTHORIZED");
  });

  test("a token grants only what the account may do", async () => {
    const guest = `Bearer ${await token(basicAuth("gwen", "guest-password"), "repository:app:pull,push,delete")}`;
    expect((await req("HEAD", "/v2/app/manifests/v1", { authorization: guest })).status).toBe(200);
    await expectError(await req("POST", "/v2/app/blobs/uploads/", { authorization: guest }), 403, "DENIED");
  });

  test("anonymous token requests get a token with no access", async () => {
    const res = await req("GET", "/v2/token?scope=repository:app:pull", ANON);
    const { token: anon } = (await res.json()) as { token: string };
    await expectError(await req("GET", "/v2/app/manifests/v1", { authorization: `Bearer ${anon}` }), 401, "UNAUTHORIZED");
  });

  test("OAuth2 POST: password grant with a refresh token, then the refresh grant", async () => {
    const form = new URLSearchParams({ grant_type: "password", username: "alice", password: "alice-password", service: "registry.test", scope: "repository:app:pull", access_type: "offline", client_id: "test" });
    const res = await req("POST", "/v2/token", { "content-type": "application/x-www-form-urlencoded", ...ANON }, form.toString());
    expect(res.status).toBe(200);
    const first = (await res.json()) as { access_token: string; refresh_token: string };
    expect(first.refresh_token).toStartWith("mcr_");
    const again = await req("POST", "/v2/token", { "content-type": "application/x-www-form-urlencoded", ...ANON }, new URLSearchParams({ grant_type: "refresh_token", refresh_token: first.refresh_token, scope: "repository:app:pull" }).toString());
    const second = (await again.json()) as { access_token: string };
    expect((await req("GET", "/v2/app/tags/list", { authorization: `Bearer ${second.access_token}` })).status).toBe(200);
    const bad = new URLSearchParams({ grant_type: "refresh_token", refresh_token: "mcr_0123456789abcdef_notavalidrefreshtokenvalue" });
    await expectError(await req("POST", "/v2/token", ANON, bad.toString()), 401, "UNAUTHORIZED");
    await expectError(await req("POST", "/v2/token", ANON, "grant_type=magic"), 400, "INVALID_ARGUMENT");
    // Anyone may post the form, so what one request may make the server buffer is small.
    await expectError(await req("POST", "/v2/token", ANON, `grant_type=password&username=alice&password=${"p".repeat(17_000)}`), 400, "INVALID_ARGUMENT");
  });

  test("Basic credentials directly on /v2 work too", async () => {
    expect((await req("GET", "/v2/app/tags/list", { authorization: basicAuth("alice", "alice-password") })).status).toBe(200);
  });
});

describe("cross-repository mount with a scoped JWT", () => {
  const alice = basicAuth("alice", "alice-password");

  test("a JWT scoped to the target only cannot mount from a repository outside its scopes: it falls back to an upload", async () => {
    // alice may pull shared/base by policy, but this token was asked for alice/app alone.
    const layer = await pushBlob(t, "shared/base", "a layer only shared/base holds");
    const jwt = await token(alice, "repository:alice/app:pull,push");
    const bearer = { authorization: `Bearer ${jwt}` };
    expect((await req("GET", `/v2/shared/base/blobs/${layer}`, bearer)).status).toBe(401);
    const mount = await req("POST", `/v2/alice/app/blobs/uploads/?mount=${layer}&from=shared/base`, bearer);
    expect(mount.status).toBe(202);
    expect(mount.headers.get("location")).toContain("/v2/alice/app/blobs/uploads/");
    expect((await req("GET", `/v2/alice/app/blobs/${layer}`, bearer)).status).toBe(404);
    // Without `from` neither: no repository outside the token's scopes is a source.
    expect((await req("POST", `/v2/alice/app/blobs/uploads/?mount=${layer}`, bearer)).status).toBe(202);
    expect((await req("GET", `/v2/alice/app/blobs/${layer}`, bearer)).status).toBe(404);
  });

  test("a JWT that also holds pull on `from` mounts (201) and reads the blob", async () => {
    const layer = await pushBlob(t, "shared/base", "another shared layer");
    const jwt = await token(alice, "repository:alice/app:pull,push repository:shared/base:pull");
    const bearer = { authorization: `Bearer ${jwt}` };
    expect((await req("POST", `/v2/alice/app/blobs/uploads/?mount=${layer}&from=shared/base`, bearer)).status).toBe(201);
    expect((await req("GET", `/v2/alice/app/blobs/${layer}`, bearer)).status).toBe(200);
  });

  test("the 401 challenge of a mount request asks for pull on `from` too, as Distribution's does", async () => {
    const res = await req("POST", `/v2/alice/app/blobs/uploads/?mount=${"sha256:" + "a".repeat(64)}&from=shared/base`, ANON);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain(`scope="repository:alice/app:pull,push repository:shared/base:pull"`);
  });
});

describe("access tokens and robots", () => {
  test("a robot's token works as a password and as a bearer; robots may pull but not push", async () => {
    const { token: pat } = await createToken(t.reg, { user: "ci", label: "pipeline" }, "test");
    expect((await req("GET", "/v2/app/manifests/v1", { authorization: basicAuth("ci", pat) })).status).toBe(200);
    expect((await req("GET", "/v2/app/manifests/v1", { authorization: `Bearer ${pat}` })).status).toBe(200);
    await expectError(await req("POST", "/v2/app/blobs/uploads/", { authorization: basicAuth("ci", pat) }), 403, "DENIED");
    await expectError(await req("GET", "/v2/app/manifests/v1", { authorization: basicAuth("alice", pat) }), 401, "UNAUTHORIZED");
  });

  test("revoking a token ends it and the JWTs obtained with it on the next request", async () => {
    const { id, token: pat } = await createToken(t.reg, { user: "ci", label: "to revoke" }, "test");
    const jwt = `Bearer ${await token(basicAuth("ci", pat), "repository:app:pull")}`;
    expect((await req("GET", "/v2/app/manifests/v1", { authorization: jwt })).status).toBe(200);
    await revokeToken(t.reg, id, "test");
    await expectError(await req("GET", "/v2/app/manifests/v1", { authorization: jwt }), 401, "UNAUTHORIZED");
    await expectError(await req("GET", "/v2/app/manifests/v1", { authorization: basicAuth("ci", pat) }), 401, "UNAUTHORIZED");
  });

  test("disabling an account ends its Basic and bearer access on the next request", async () => {
    await addUser(t.reg, { name: "dave", password: "dave-password" }, "test");
    const jwt = `Bearer ${await token(basicAuth("dave", "dave-password"), "repository:app:pull")}`;
    expect((await req("GET", "/v2/app/manifests/v1", { authorization: basicAuth("dave", "dave-password") })).status).toBe(200);
    await setDisabled(t.reg, "dave", true, "test");
    await expectError(await req("GET", "/v2/app/manifests/v1", { authorization: basicAuth("dave", "dave-password") }), 401, "UNAUTHORIZED");
    await expectError(await req("GET", "/v2/app/manifests/v1", { authorization: jwt }), 401, "UNAUTHORIZED");
  });

  test("a JWT's account rows, reused while nothing changes, are read again after another connection's change", async () => {
    await addUser(t.reg, { name: "gus", password: "gus-password" }, "test");
    const { id, token: pat } = await createToken(t.reg, { user: "gus", label: "elsewhere" }, "test");
    const viaToken = `Bearer ${await token(basicAuth("gus", pat), "repository:app:pull")}`;
    const viaPassword = `Bearer ${await token(basicAuth("gus", "gus-password"), "repository:app:pull")}`;
    for (let i = 0; i < 3; i++) {
      expect((await req("GET", "/v2/app/manifests/v1", { authorization: viaToken })).status).toBe(200);
      expect((await req("GET", "/v2/app/manifests/v1", { authorization: viaPassword })).status).toBe(200);
    }
    // Another connection to the same database, as \`mcr token revoke\` or \`mcr user disable\` would open.
    const other = await openRegistry(t.dataDir, { database: t.database });
    try {
      await revokeToken(other, id, "test");
      await expectError(await req("GET", "/v2/app/manifests/v1", { authorization: viaToken }), 401, "UNAUTHORIZED");
      expect((await req("GET", "/v2/app/manifests/v1", { authorization: viaPassword })).status).toBe(200);
      await setDisabled(other, "gus", true, "test");
      await expectError(await req("GET", "/v2/app/manifests/v1", { authorization: viaPassword }), 401, "UNAUTHORIZED");
      await setDisabled(other, "gus", false, "test");
      expect((await req("GET", "/v2/app/manifests/v1", { authorization: viaPassword })).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  test("a JWT already used (its signature checked once) still ends with its account, and at its expiry", async () => {
    await addUser(t.reg, { name: "fay", password: "fay-password" }, "test");
    const jwt = `Bearer ${await token(basicAuth("fay", "fay-password"), "repository:app:pull")}`;
    for (let i = 0; i < 3; i++) expect((await req("GET", "/v2/app/manifests/v1", { authorization: jwt })).status).toBe(200);
    const now = t.reg.now;
    t.reg.now = () => now() + 301_000;
    try {
      await expectError(await req("GET", "/v2/app/manifests/v1", { authorization: jwt }), 401, "UNAUTHORIZED");
    } finally {
      t.reg.now = now;
    }
    expect((await req("GET", "/v2/app/manifests/v1", { authorization: jwt })).status).toBe(200);
    await setDisabled(t.reg, "fay", true, "test");
    await expectError(await req("GET", "/v2/app/manifests/v1", { authorization: jwt }), 401, "UNAUTHORIZED");
  });
});

test("a JWT of a removed account does not pass to a new account of the same name", async () => {
  await addUser(t.reg, { name: "erin", password: "erin-password" }, "test");
  const jwt = `Bearer ${await token(basicAuth("erin", "erin-password"), "repository:app:pull")}`;
  await removeUser(t.reg, "erin", "test");
  await addUser(t.reg, { name: "erin", role: "guest", password: "other-password" }, "test");
  await expectError(await req("GET", "/v2/app/manifests/v1", { authorization: jwt }), 401, "UNAUTHORIZED");
});

describe("bad credentials", () => {
  test("wrong passwords, forged, expired and foreign tokens, and malformed headers → 401", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const claims = { sub: "alice", aud: "registry.test", iat, nbf: iat, exp: iat + 300, jti: "x", access: [{ type: "repository", name: "app", actions: ["pull"] }] };
    const foreign = signJwt(ephemeralSigningKey(), claims);
    const expired = signJwt(t.key, { ...claims, iat: iat - 1000, nbf: iat - 1000, exp: iat - 10 });
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ iss: "mcr", ...claims })).toString("base64url")}.`;
    const headers = [
      basicAuth("alice", "wrong-password"),
      basicAuth("nobody", "whatever-password"),
      `Bearer ${foreign}`,
      `Bearer ${expired}`,
      `Bearer ${none}`,
      "Bearer not.a.jwt",
      "Basic !!!notbase64",
      `Basic ${Buffer.from("no-colon").toString("base64")}`,
      "Digest username=alice",
      "Basic",
      `Basic ${"A".repeat(10_000)}`,
      basicAuth("alice", "p".repeat(5000)),
    ];
    for (const authorization of headers) {
      const res = await req("GET", "/v2/app/manifests/v1", { authorization });
      await expectError(res, 401, "UNAUTHORIZED");
      expect(res.headers.get("www-authenticate")).toStartWith("Bearer realm=");
    }
  });

  test("repeated failures are throttled with 429 and Retry-After, even for the right password, and audited", async () => {
    // A fresh registry: the tests above already failed from this address.
    const fresh = await testApp();
    await addUser(fresh.reg, { name: "mallory", password: "mallory-password" }, "test");
    const attempt = async (password: string) => {
      const res = await fresh.request("GET", "/v2/", { headers: { authorization: basicAuth("mallory", password) } });
      statuses.push(res.status);
      return res;
    };
    // Ten distinct wrong passwords per account and address are free; the eleventh starts the waits.
    for (let i = 0; i < 10; i++) expect((await attempt(`guess-${i}-xxxx`)).status).toBe(401);
    const eleventh = await attempt("guess-10-xxxx");
    expect(eleventh.status).toBe(401);
    const throttled = await attempt("guess-11-xxxx");
    await expectError(throttled, 429, "TOOMANYREQUESTS");
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await attempt("mallory-password")).status).toBe(429);
    await fresh.reg.audit.drain();
    const events = (await recentAuditEvents(fresh.reg.db, 500)).filter((e) => e.event === "login" && e.actor === "user:mallory");
    await fresh.close();
    expect(events.filter((e) => e.outcome === "failure")).toHaveLength(11);
    // The two throttled attempts are one tallied event.
    const denied = events.filter((e) => e.outcome === "denied");
    expect(denied).toHaveLength(1);
    expect(JSON.parse(denied[0]!.detail!)).toMatchObject({ reason: "throttled", count: 2 });
    expect(events.every((e) => e.source === "127.0.0.1")).toBe(true);
  });

  test("no response was a 500", () => {
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
  });
});
