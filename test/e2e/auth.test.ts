/**
 * @module Authentication against a real `mcr serve`: the first-start admin, the
 * Docker token flow, accounts and tokens changed with the CLI while it runs, a
 * robot pulling with skopeo and podman, and no secret ever in the server's output.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliOk, startServe } from "../support/cli.ts";
import { containerTool, requireTool } from "../support/container-tool.ts";
import { basicAuth } from "../support/credentials.ts";
import { sha256, writeImageLayout, type ImageWritten } from "../support/oci-layout.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const FILE = "test/e2e/auth.test.ts";
const SKOPEO = requireTool("skopeo", FILE);
const PODMAN = requireTool("podman", FILE);
const CURL = Bun.which("curl");
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
/** server-process.ts keeps this many lines; the secrets check must have seen them all. */
const TAIL_LINES = 200;

describe("first start", () => {
  test("prints a generated admin password once, which works; a second start prints none", async () => {
    const dataDir = tempDir("first-start-");
    const first = await startServe(dataDir);
    const printed = [...first.output().matchAll(/^created user "admin" with password: (\S+)$/gm)];
    expect(printed).toHaveLength(1);
    const password = printed[0]?.[1] ?? "";
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect((await fetch(`${first.url}/v2/`, { headers: { Authorization: basicAuth("admin", password) } })).status).toBe(200);
    expect((await fetch(`${first.url}/v2/`, { headers: { Authorization: basicAuth("admin", `${password}x`) } })).status).toBe(401);
    await first.stop();
    expect(first.output().split(password)).toHaveLength(2);

    const second = await startServe(dataDir);
    expect((await fetch(`${second.url}/v2/`, { headers: { Authorization: basicAuth("admin", password) } })).status).toBe(200);
    await second.stop();
    expect(second.output()).toContain("mcr listening on");
    expect(second.output()).not.toContain("password");
    expect(second.output()).not.toContain(password);
  });
});

describe("auth against mcr serve", () => {
  let server: ServerProcess;
  let layout: string;
  let image: ImageWritten;
  let robotToken = "";
  /** Every password, token and JWT handed out, for the final check of the server's output. */
  const secrets: string[] = [];
  const keep = (...values: string[]) => secrets.push(...values);

  const get = (path: string, auth?: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, { ...init, headers: { ...(auth ? { Authorization: auth } : {}), Accept: MANIFEST } });
  const bearer = (token: string) => `Bearer ${token}`;
  const cli = (...args: string[]) => cliOk([...args, "--data", server.dataDir]);
  const addUser = (name: string, password: string) => {
    keep(password, basicAuth(name, password));
    return cliOk(["user", "add", name, "--password-stdin", "--data", server.dataDir], { stdin: password });
  };
  const createToken = async (user: string) => {
    const created = JSON.parse(await cli("token", "create", "--user", user, "--name", "e2e", "--json")) as { id: string; token: string };
    keep(created.token, created.token.slice(`mcr_${created.id}_`.length), basicAuth(user, created.token));
    return created;
  };
  const tokenRequest = (auth: string, scope: string) =>
    get(`/v2/token?service=${encodeURIComponent(server.host)}&scope=${encodeURIComponent(scope)}`, auth);
  const jwtFor = async (auth: string, scope = "repository:e2e/app:pull") => {
    const res = await tokenRequest(auth, scope);
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    keep(token);
    return token;
  };
  const pullStatus = async (auth: string) => (await get("/v2/e2e/app/manifests/v1", auth)).status;
  const pushStatus = async (auth: string) => (await get("/v2/e2e/app/blobs/uploads/", auth, { method: "POST" })).status;

  beforeAll(async () => {
    server = await startServerProcess();
    keep(server.password, server.authHeader);
    layout = tempDir("auth-layout-");
    image = writeImageLayout(layout, { tag: "v1", layers: 2 });
    for (const digest of [image.configDigest, ...image.layerDigests]) {
      const body = readFileSync(join(layout, "blobs", "sha256", digest.slice("sha256:".length)));
      const res = await get(`/v2/e2e/app/blobs/uploads/?digest=${digest}`, server.authHeader, { method: "POST", body });
      expect(res.status).toBe(201);
    }
    const put = await fetch(`${server.url}/v2/e2e/app/manifests/v1`, {
      method: "PUT",
      body: image.manifestBytes,
      headers: { Authorization: server.authHeader, "Content-Type": MANIFEST },
    });
    expect(put.status).toBe(201);
  });

  afterAll(async () => {
    await server?.stop();
  });

  test("anonymous requests get 401 and a Bearer challenge", async () => {
    const base = await get("/v2/");
    expect(base.status).toBe(401);
    expect(base.headers.get("www-authenticate")).toBe(`Bearer realm="${server.url}/v2/token",service="${server.host}"`);
    const pull = await get("/v2/e2e/app/manifests/v1");
    expect(pull.status).toBe(401);
    expect(pull.headers.get("www-authenticate")).toEndWith(`,scope="repository:e2e/app:pull"`);
    expect(((await pull.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("UNAUTHORIZED");
    expect((await get("/v2/e2e/app/blobs/uploads/", undefined, { method: "POST" })).headers.get("www-authenticate")).toEndWith(
      `,scope="repository:e2e/app:pull,push"`,
    );
    // An anonymous token grants nothing; a wrong password is refused (one distinct wrong password of the 10 free per account and client).
    expect(await pullStatus(bearer(await jwtFor("")))).toBe(401);
    expect(await pullStatus(basicAuth("admin", "wrong-password"))).toBe(401);
    expect((await get("/v1/health")).status).toBe(200);
  });

  test("the token flow: challenge, GET /v2/token with Basic, pull with the Bearer token", async () => {
    const challenge = (await get("/v2/e2e/app/manifests/v1")).headers.get("www-authenticate") ?? "";
    const [, realm = "", service = "", scope = ""] = /^Bearer realm="([^"]+)",service="([^"]+)",scope="([^"]+)"$/.exec(challenge) ?? [];
    const res = await fetch(`${realm}?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}`, {
      headers: { Authorization: server.authHeader },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
    keep(body.token);
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBeGreaterThan(0);
    const pulled = await get("/v2/e2e/app/manifests/v1", bearer(body.token));
    expect(pulled.status).toBe(200);
    expect(sha256(new Uint8Array(await pulled.arrayBuffer()))).toBe(image.manifestDigest);
    // A pull-only token sends a push back for a new token with the push scope.
    const push = await get("/v2/e2e/app/blobs/uploads/", bearer(body.token), { method: "POST" });
    expect(push.status).toBe(401);
    expect(push.headers.get("www-authenticate")).toContain(`scope="repository:e2e/app:pull,push"`);
    expect(await pullStatus(server.authHeader)).toBe(200);
  });

  test.skipIf(!CURL)("curl: 401 anonymously, -u works, and the token flow", async () => {
    const curl = async (...args: string[]) => {
      const proc = Bun.spawn([CURL ?? "curl", "-sS", "--max-time", "20", ...args], { stdout: "pipe", stderr: "pipe" });
      const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      expect(code).toBe(0);
      return out;
    };
    const status = ["-o", "/dev/null", "-w", "%{http_code}"];
    expect(await curl(...status, `${server.url}/v2/`)).toBe("401");
    expect(await curl("-D", "-", "-o", "/dev/null", `${server.url}/v2/`)).toMatch(/^www-authenticate: Bearer realm=/im);
    const userpass = `${server.username}:${server.password}`;
    expect(await curl(...status, "-u", userpass, `${server.url}/v2/`)).toBe("200");
    const url = `${server.url}/v2/token?service=${server.host}&scope=repository:e2e/app:pull`;
    const { token } = JSON.parse(await curl("-u", userpass, url)) as { token: string };
    keep(token);
    const manifest = await curl("-H", `Authorization: Bearer ${token}`, "-H", `Accept: ${MANIFEST}`, `${server.url}/v2/e2e/app/manifests/v1`);
    expect(sha256(manifest)).toBe(image.manifestDigest);
  });

  test("OAuth2 POST: password grant with a refresh token, then the refresh grant", async () => {
    const post = (form: Record<string, string>) =>
      fetch(`${server.url}/v2/token`, { method: "POST", body: new URLSearchParams({ service: server.host, scope: "repository:e2e/app:pull", ...form }) });
    const first = await post({ grant_type: "password", username: "admin", password: server.password, client_id: "e2e", access_type: "offline" });
    expect(first.status).toBe(200);
    const { access_token, refresh_token = "" } = (await first.json()) as { access_token: string; refresh_token?: string };
    keep(access_token, refresh_token);
    expect(refresh_token).toMatch(/^mcr_[0-9a-f]{16}_/);
    expect(await pullStatus(bearer(access_token))).toBe(200);
    const online = (await (await post({ grant_type: "password", username: "admin", password: server.password })).json()) as object;
    expect(online).not.toHaveProperty("refresh_token");
    keep((online as { token: string }).token);

    const refreshed = await post({ grant_type: "refresh_token", refresh_token, client_id: "e2e" });
    expect(refreshed.status).toBe(200);
    const again = (await refreshed.json()) as { access_token: string };
    keep(again.access_token);
    expect(await pullStatus(bearer(again.access_token))).toBe(200);
    expect((await post({ grant_type: "refresh_token", refresh_token: `${refresh_token.slice(0, -2)}xx` })).status).toBe(401);
  });

  test("a user added with the CLI while the server runs logs in at once", async () => {
    await addUser("carol", "carol-password-1");
    const carol = basicAuth("carol", "carol-password-1");
    expect((await get("/v2/", carol)).status).toBe(200);
    expect(await pullStatus(bearer(await jwtFor(carol)))).toBe(200);
    expect(await pushStatus(carol)).toBe(202);
    const login = await fetch(`${server.url}/v1/auth/login`, { method: "POST", body: JSON.stringify({ username: "carol", password: "carol-password-1" }) });
    expect(login.status).toBe(200);
    const session = ((await login.json()) as { token: string }).token;
    keep(session);
    expect((await fetch(`${server.url}/v1/auth/logout`, { method: "POST", headers: { Authorization: bearer(session) } })).status).toBe(204);
  });

  test("mcr user disable: Basic and an already-issued JWT fail on the next request", async () => {
    await addUser("dave", "dave-password-1");
    const dave = basicAuth("dave", "dave-password-1");
    const jwt = await jwtFor(dave);
    expect(await pullStatus(dave)).toBe(200);
    expect(await pullStatus(bearer(jwt))).toBe(200);
    await cli("user", "disable", "dave");
    expect(await pullStatus(dave)).toBe(401); // failure 2
    expect(await pullStatus(bearer(jwt))).toBe(401);
    expect((await tokenRequest(dave, "repository:e2e/app:pull")).status).toBe(401); // failure 3
    await cli("user", "enable", "dave");
    expect(await pullStatus(dave)).toBe(200);
  });

  test("mcr token revoke: the token and a JWT obtained with it stop working", async () => {
    await addUser("erin", "erin-password-1");
    const { id, token } = await createToken("erin");
    const withToken = basicAuth("erin", token);
    const jwt = await jwtFor(withToken);
    const passwordJwt = await jwtFor(basicAuth("erin", "erin-password-1"));
    for (const auth of [withToken, bearer(token), bearer(jwt)]) expect(await pullStatus(auth)).toBe(200);
    await cli("token", "revoke", id);
    expect(await pullStatus(withToken)).toBe(401); // failure 4
    expect(await pullStatus(bearer(token))).toBe(401);
    expect(await pullStatus(bearer(jwt))).toBe(401);
    expect((await tokenRequest(withToken, "repository:e2e/app:pull")).status).toBe(401); // failure 5, the last free one
    expect(await pullStatus(bearer(passwordJwt))).toBe(200);
  });

  test("a robot gets nothing until a policy applied from another process lets it pull; push stays DENIED", async () => {
    expect(await cli("user", "add", "ci", "--robot")).toContain("created robot ci");
    robotToken = (await createToken("ci")).token;
    const robot = basicAuth("ci", robotToken);
    expect(await pullStatus(robot)).toBe(403);
    const policy = join(tempDir("policy-"), "policy.toml");
    writeFileSync(policy, `${await cli("policy", "show")}\n[[rule]]\nid = "ci-pull"\neffect = "allow"\nsubjects = ["robot:ci"]\nactions = ["pull"]\nrepositories = ["e2e/**"]\n`);
    expect(await cli("policy", "apply", "-f", policy)).toContain("+ ci-pull");
    expect(await pullStatus(robot)).toBe(200);
    const jwt = await jwtFor(robot, "repository:e2e/app:pull,push");
    const claims = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as { access: { actions: string[] }[] };
    expect(claims.access.map((a) => a.actions)).toEqual([["pull"]]);
    for (const auth of [robot, bearer(robotToken), bearer(jwt)]) {
      const res = await get("/v2/e2e/app/blobs/uploads/", auth, { method: "POST" });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("DENIED");
    }
  });

  test.skipIf(!SKOPEO)("skopeo --creds robot:TOKEN pulls", async () => {
    const skopeo = containerTool("skopeo", { registryHost: server.host, server, bin: SKOPEO });
    const out = tempDir("skopeo-out-");
    const src = `docker://${server.host}/e2e/app:v1`;
    await skopeo.run(["copy", "--src-tls-verify=false", "--src-creds", `ci:${robotToken}`, src, `oci:${out}:v1`]);
    const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).toEqual([image.manifestDigest]);
  });

  test.skipIf(!PODMAN)("podman login with a robot token, then pull", async () => {
    const podman = containerTool("podman", { registryHost: server.host, server, bin: PODMAN });
    await podman.login("ci", robotToken);
    await podman.run(["pull", "--quiet", "--tls-verify=false", ...podman.signaturePolicy, `${server.host}/e2e/app:v1`]);
    const [inspected] = JSON.parse(await podman.run(["image", "inspect", `${server.host}/e2e/app:v1`])) as { Digest: string }[];
    expect(inspected?.Digest).toBe(image.manifestDigest);
  });

  test("no password, token or JWT ever appears in the server's output", () => {
    const output = server.output();
    const lines = output.split("\n");
    // Fewer lines than the tail keeps: nothing was dropped before this check.
    expect(lines.length).toBeLessThan(TAIL_LINES);
    expect(output).toContain("GET /v2/token 200");
    expect(secrets.length).toBeGreaterThan(20);
    for (const secret of new Set(secrets)) {
      if (secret.length < 8) throw new Error(`too short to look for: ${JSON.stringify(secret)}`);
      const line = lines.find((l) => l.includes(secret) || l.includes(secret.replace(/^Basic /, "")));
      expect(line).toBeUndefined();
    }
  });
});
