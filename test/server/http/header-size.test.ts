/**
 * @module The request header limit: over `maxHeaderBytes` a request is
 * answered 431 in the format of the API it addressed, before any
 * credential in it is looked at; under it, nothing changes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { headerBytes } from "../../../server/http/header-size.ts";
import { startServer, type RunningServer } from "../../../server/serve.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { ADMIN_AUTH, TEST_ADMIN } from "../../support/credentials.ts";
import { tempDir } from "../../support/temp.ts";

let t: TestApp;

beforeAll(async () => {
  t = await testApp({ limits: { maxHeaderBytes: 2048 } });
});
afterAll(() => t.close());

describe("request header limit", () => {
  test("counts the request line and every header", () => {
    const req = new Request("http://x/v2/a/tags/list?n=1", { headers: { "X-A": "bc" } });
    expect(headerBytes(req, new URL(req.url))).toBeGreaterThan("GET /v2/a/tags/list?n=1".length + "x-a: bc".length);
  });

  test("under the limit, requests are served", async () => {
    const res = await t.request("GET", "/v2/", { headers: { "X-Pad": "p".repeat(1000) } });
    expect(res.status).toBe(200);
  });

  test("over it, /v2 answers 431 HEADERS_TOO_LARGE in the OCI format", async () => {
    const res = await t.request("GET", "/v2/", { headers: { "X-Pad": "p".repeat(3000) } });
    expect(res.status).toBe(431);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]!.code).toBe("HEADERS_TOO_LARGE");
    expect(body.errors[0]!.message).toContain("2048");
  });

  test("many small headers count as much as one big one", async () => {
    const headers = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, "v"]));
    expect((await t.request("GET", "/v2/", { headers })).status).toBe(431);
  });

  test("a long path counts too", async () => {
    expect((await t.request("GET", `/v2/${"a/".repeat(1100)}tags/list`)).status).toBe(431);
  });

  test("/v1 answers 431 with a JSON error", async () => {
    const res = await t.request("GET", "/v1/users", { headers: { "X-Pad": "p".repeat(3000) } });
    expect(res.status).toBe(431);
    expect(((await res.json()) as { error: string }).error).toContain("headers");
  });

  test("over HTTP, the limit passed to startServer applies", async () => {
    const server: RunningServer = await startServer({
      hostname: "127.0.0.1",
      port: 0,
      dataDir: tempDir(),
      adminPassword: TEST_ADMIN.password,
      limits: { maxHeaderBytes: 4096 },
    });
    try {
      const ok = await fetch(`${server.url}/v2/`, { headers: { Authorization: ADMIN_AUTH } });
      expect(ok.status).toBe(200);
      const big = await fetch(`${server.url}/v2/`, { headers: { Authorization: ADMIN_AUTH, "X-Pad": "p".repeat(5000) } });
      expect(big.status).toBe(431);
    } finally {
      await server.stop();
    }
  });
});
