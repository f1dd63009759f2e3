/**
 * @module An in-process registry for HTTP tests: a real SQLite file and
 * blob store in a temp dir, and the server's fetch handler to call.
 */
import { openRegistry, type Registry } from "../../lib/registry/registry.ts";
import { createApp, type App } from "../../server/app.ts";
import { tempDir } from "./temp.ts";

/** A registry and its HTTP handler; `request` builds and sends a request to it. */
export interface TestApp {
  reg: Registry;
  app: App;
  dataDir: string;
  request(method: string, path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Opens a fresh registry in a temp dir. */
export async function testApp(): Promise<TestApp> {
  const dataDir = tempDir("reg-");
  const reg = await openRegistry(dataDir);
  const app = createApp(reg);
  return {
    reg,
    app,
    dataDir,
    request: (method, path, init = {}) => app.fetch(new Request(`http://registry.test${path}`, { method, ...init })),
    close: () => reg.close(),
  };
}
