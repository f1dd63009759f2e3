/**
 * @module server.base_url: behind a proxy the challenge names the public
 * URL, whatever host and scheme the request arrived with; without it, the
 * forwarded host and scheme are believed only from a trusted proxy.
 */
import { afterAll, expect, test } from "bun:test";
import { Authenticator } from "../../lib/auth/authenticator.ts";
import { ephemeralSigningKey } from "../../lib/auth/signing-key.ts";
import { openRegistry } from "../../lib/registry/registry.ts";
import { createApp } from "../../server/app.ts";
import { tempDir } from "../support/temp.ts";

const reg = await openRegistry(tempDir("base-url-"));
afterAll(() => reg.close());

test("the Bearer challenge uses base_url when set, and the request's URL otherwise", async () => {
  const auth = new Authenticator(reg, ephemeralSigningKey(), { tokenTtlSeconds: 300 });
  const proxied = createApp(reg, { auth, baseUrl: "https://registry.example.com" });
  const direct = createApp(reg, { auth });
  const req = () => new Request("http://127.0.0.1:5000/v2/");
  expect((await proxied.fetch(req())).headers.get("www-authenticate")).toBe(
    `Bearer realm="https://registry.example.com/v2/token",service="registry.example.com"`,
  );
  expect((await direct.fetch(req())).headers.get("www-authenticate")).toBe(`Bearer realm="http://127.0.0.1:5000/v2/token",service="127.0.0.1:5000"`);
});

test("without base_url, X-Forwarded-Proto/-Host pick the realm only when the peer is a trusted proxy (address or CIDR)", async () => {
  const auth = new Authenticator(reg, ephemeralSigningKey(), { tokenTtlSeconds: 300 });
  const app = createApp(reg, { auth, trustedProxies: ["10.0.0.0/8", "::1"] });
  const from = (address: string) => ({ requestIP: () => ({ address }) });
  const req = () => new Request("http://127.0.0.1:5000/v2/", { headers: { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example" } });
  const own = `Bearer realm="http://127.0.0.1:5000/v2/token",service="127.0.0.1:5000"`;
  // A client connecting directly cannot send others to its own token realm.
  expect((await app.fetch(req(), from("203.0.113.9"))).headers.get("www-authenticate")).toBe(own);
  expect((await app.fetch(req())).headers.get("www-authenticate")).toBe(own);
  const proxied = `Bearer realm="https://evil.example/v2/token",service="evil.example"`;
  expect((await app.fetch(req(), from("10.1.2.3"))).headers.get("www-authenticate")).toBe(proxied);
  expect((await app.fetch(req(), from("::ffff:10.1.2.3"))).headers.get("www-authenticate")).toBe(proxied);
  expect((await app.fetch(req(), from("::1"))).headers.get("www-authenticate")).toBe(proxied);
});

test("a token asked for through an untrusted X-Forwarded-Host names the request's own host as its service", async () => {
  const auth = new Authenticator(reg, ephemeralSigningKey(), { tokenTtlSeconds: 300 });
  const app = createApp(reg, { auth, trustedProxies: ["10.0.0.1"] });
  const res = await app.fetch(
    new Request("http://127.0.0.1:5000/v2/", { headers: { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example" } }),
    { requestIP: () => ({ address: "10.0.0.2" }) },
  );
  expect(res.headers.get("www-authenticate")).toContain(`service="127.0.0.1:5000"`);
});
