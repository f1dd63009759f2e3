/**
 * @module Malformed request targets over raw TCP to a real server: a bad
 * Host header or CONNECT answers 400 with an error body, is logged with its
 * request line and counted in metrics, leaves no stack trace, and the server
 * keeps serving. Also the Host grammar and the public base URL taken from
 * the request when `server.base_url` is unset.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { requestBase, validHost } from "../../../server/http/request-target.ts";
import { rawRequest, requestHead } from "../../support/raw-http.ts";
import { startServerProcess, type ServerProcess } from "../../support/server-process.ts";

let server: ServerProcess;
let port: number;
const lines: string[] = [];

beforeAll(async () => {
  server = await startServerProcess({ onLine: (line) => lines.push(line) });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.stop());

const raw = (head: string) => rawRequest({ host: "127.0.0.1", port, parts: [head], timeoutMs: 5000 });
const bodyOf = (body: Uint8Array) => JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;

describe("bad Host headers and CONNECT against a real server", () => {
  const hosts = ["x/", "", "[::1", "a@b", "a:65536", "a:99999", "a:0", "x?y", "a b", "999.1.1.1", "a%41"];

  for (const host of hosts) {
    test(`Host: ${JSON.stringify(host)} → 400 with an OCI error body and the API's headers`, async () => {
      const res = await raw(requestHead("GET", "/v2/", host));
      expect(res.status).toBe(400);
      expect(bodyOf(res.body)).toEqual({ errors: [{ code: "INVALID_ARGUMENT", message: expect.stringContaining("Host header"), detail: null }] });
      expect(res.headers.get("x-request-id")).not.toBeNull();
      expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    });
  }

  test("a bad Host on /v1 and elsewhere → 400 with {error}", async () => {
    for (const path of ["/v1/users", "/metrics", "/v1/ready", "/"]) {
      const res = await raw(requestHead("GET", path, "a@b"));
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(bodyOf(res.body).error).toContain("Host header");
    }
  });

  test("CONNECT host:port → 400", async () => {
    const res = await raw(requestHead("CONNECT", "example.com:443", "example.com:443"));
    expect(res.status).toBe(400);
    expect(bodyOf(res.body).error).toContain("CONNECT");
  });

  test("absolute-form targets are served for the Host header's host, never a 500", async () => {
    for (const target of ["http://evil.example/v2/", "http://a@b/v2/", "https://[::1/v2/"]) {
      const res = await raw(requestHead("GET", target, `127.0.0.1:${port}`));
      expect({ target, status: res.status }).toEqual({ target, status: res.status === 400 ? 400 : 401 });
      if (res.status === 401) expect(res.headers.get("www-authenticate")).toContain(`realm="http://127.0.0.1:${port}/v2/token"`);
    }
  });

  test("the server keeps serving, logged each with its request line, counted, and no stack trace", async () => {
    const ok = await raw(requestHead("GET", "/v2/", `127.0.0.1:${port}`, [["Authorization", server.authHeader]]));
    expect(ok.status).toBe(200);
    await Bun.sleep(100);
    const log = lines.join("\n");
    expect(log).toMatch(/GET \/v2\/ 400 [-\d]+B/);
    expect(log).toMatch(/GET \/v1\/users 400 [-\d]+B/);
    expect(log).toMatch(/CONNECT - 400 [-\d]+B/);
    expect(log).not.toMatch(/TypeError|internal error|Invalid URL|^\s+at /m);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const bad = metrics.split("\n").filter((l) => /status="400"/.test(l) && !l.startsWith("#"));
    const counted = bad.filter((l) => /_requests_total/.test(l)).reduce((n, l) => n + Number(l.split(" ").pop()), 0);
    expect(counted).toBeGreaterThanOrEqual(hosts.length + 5);
  });
});

describe("validHost", () => {
  test("names, IPv4 and bracketed IPv6 with an optional port 1-65535", () => {
    for (const host of ["registry", "registry.example.com", "reg_1.local", "127.0.0.1:5000", "[::1]", "[::1]:443", "example.com.", "a:65535"]) {
      expect({ host, ok: validHost(host) }).toEqual({ host, ok: true });
    }
    for (const host of ["", "x/", "[::1", "a@b", "a:0", "a:65536", "a b", "a\u001b[2K", "é.com", "[zz::1]", ":80", "a:", "-a.com"]) {
      expect({ host, ok: validHost(host) }).toEqual({ host, ok: false });
    }
  });
});

describe("requestBase (server.base_url unset)", () => {
  const url = new URL("http://reg.internal:5000/v2/");
  const req = (headers: Record<string, string>) => new Request(url.href, { headers });
  const forwarded = { "x-forwarded-proto": "https", "x-forwarded-host": "registry.example.com" };

  test("from an untrusted peer, X-Forwarded-Proto and -Host are ignored: the request's own Host and scheme", () => {
    expect(requestBase(req(forwarded), url, false)).toBe("http://reg.internal:5000");
  });

  test("from a trusted proxy they are believed (first value), and a bad forwarded host is ignored", () => {
    expect(requestBase(req(forwarded), url, true)).toBe("https://registry.example.com");
    expect(requestBase(req({ "x-forwarded-proto": "https, http", "x-forwarded-host": "a.example, b.example" }), url, true)).toBe("https://a.example");
    expect(requestBase(req({ "x-forwarded-proto": "gopher", "x-forwarded-host": "evil/path" }), url, true)).toBe("http://reg.internal:5000");
  });
});
