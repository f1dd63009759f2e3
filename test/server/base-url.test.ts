/**
 * @module server.base_url: behind a proxy the challenge names the public
 * URL, whatever host and scheme the request arrived with.
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
