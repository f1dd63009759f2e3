/**
 * @module The TLS certificate and key files: read and checked at start,
 * on SIGHUP and by `mcr config check`, so a bad file stops the start (or
 * keeps the old certificate) with a message naming the setting.
 */
import { readFileSync } from "node:fs";
import { fail } from "../errors.ts";

/** PEM text of a certificate chain and its key. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** Reads and sanity-checks both files; throws INVALID_ARGUMENT naming the setting. */
export function readTlsFiles(certPath: string, keyPath: string): TlsFiles {
  const cert = readPem("server.tls.cert", certPath, /-----BEGIN CERTIFICATE-----/);
  const key = readPem("server.tls.key", keyPath, /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/);
  return { cert, key };
}

function readPem(setting: string, path: string, marker: RegExp): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    fail("INVALID_ARGUMENT", `${setting}: cannot read ${path}: ${code === "ENOENT" ? "no such file" : code ?? String(error)}`, { key: setting });
  }
  if (!marker.test(text)) fail("INVALID_ARGUMENT", `${setting}: ${path} is not a PEM ${setting.endsWith("cert") ? "certificate" : "private key"}`, { key: setting });
  return text;
}
