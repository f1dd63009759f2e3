/**
 * @module `mcr serve --workers 2` over HTTPS: SIGHUP to the supervisor
 * reaches every worker, and after it every connection, whichever worker
 * the kernel gives it, is served the renewed certificate.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";
import { makeCertificate, presentedCommonName, requireOpenssl } from "../support/tls.ts";

setDefaultTimeout(120_000);

const openssl = requireOpenssl("test/e2e/workers-tls.test.ts");
let server: ServerProcess | undefined;
afterAll(() => server?.stop());

if (openssl) {
  describe("--workers 2 with TLS", () => {
    test("SIGHUP renews the certificate in every worker", async () => {
      const dir = tempDir("workers-tls-");
      const cert = join(dir, "cert.pem");
      const key = join(dir, "key.pem");
      makeCertificate(openssl, cert, key, "first");
      const lines: string[] = [];
      server = await startServerProcess({
        args: ["--listen", "127.0.0.1:0", "--data", join(dir, "data"), "--workers", "2", "--tls-cert", cert, "--tls-key", key],
        onLine: (l) => lines.push(l),
      });
      expect(server.url.startsWith("https://")).toBe(true);
      const port = Number(new URL(server.url).port);
      for (let i = 0; i < 6; i++) expect(await presentedCommonName("127.0.0.1", port)).toBe("first");
      makeCertificate(openssl, cert, key, "renewed");
      process.kill(server.pid, "SIGHUP");
      const until = Date.now() + 20_000;
      const reloaded = () => lines.filter((l) => l.includes("TLS certificate reloaded"));
      while (reloaded().length < 2 && Date.now() < until) await Bun.sleep(50);
      expect(reloaded().some((l) => l.includes("worker=1"))).toBe(true);
      expect(reloaded().some((l) => l.includes("worker=2"))).toBe(true);
      // Many fresh connections: the kernel spreads them over both workers' new listeners.
      for (let i = 0; i < 12; i++) expect(await presentedCommonName("127.0.0.1", port)).toBe("renewed");
    });
  });
}
