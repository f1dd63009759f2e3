/**
 * @module Self-signed certificates for TLS tests, made with the openssl
 * command line, and a way to see which certificate a server presents.
 */
import { test } from "bun:test";
import { connect } from "node:tls";

/** The openssl binary, or undefined after registering why TLS tests do not run (a failing test in CI). */
export function requireOpenssl(testFile: string): string | undefined {
  const bin = Bun.which("openssl");
  if (bin) return bin;
  if (process.env.CI) {
    test("openssl is installed (required when CI is set)", () => {
      throw new Error(`openssl is not on PATH; CI must run ${testFile}`);
    });
  } else {
    console.warn(`skipping ${testFile}: openssl is not on PATH`);
  }
  return undefined;
}

/** Writes a self-signed P-256 certificate for 127.0.0.1 (subject CN=`cn`) to `certPath` and its key to `keyPath`. */
export function makeCertificate(openssl: string, certPath: string, keyPath: string, cn: string): void {
  const r = Bun.spawnSync([
    openssl,
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"],
    ...["-subj", `/CN=${cn}`, "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", keyPath, "-out", certPath],
  ]);
  if (r.exitCode !== 0) throw new Error(`openssl failed: ${r.stderr.toString()}`);
}

/** The subject CN of the certificate `host:port` presents. */
export function presentedCommonName(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.end();
      resolve(Array.isArray(cn) ? cn.join(",") : (cn ?? ""));
    });
    socket.on("error", reject);
  });
}
