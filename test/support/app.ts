/**
 * @module An in-process registry for HTTP tests: a real SQLite file and
 * blob store in a temp dir, an admin account, and the server's fetch
 * handler to call. Requests go as the admin unless they carry their own
 * Authorization header (an empty one means anonymous).
 */
import { Authenticator } from "../../lib/auth/authenticator.ts";
import { ephemeralSigningKey, type SigningKey } from "../../lib/auth/signing-key.ts";
import type { Limits } from "../../lib/limits.ts";
import { ensureAdmin } from "../../lib/auth/users.ts";
import { openRegistry, type Registry } from "../../lib/registry/registry.ts";
import { Mirror, type MirrorEvent } from "../../lib/mirror/mirror.ts";
import type { UpstreamConfig } from "../../lib/mirror/upstream-config.ts";
import type { S3StoreOptions } from "../../lib/storage/s3-store.ts";
import { createApp, type App } from "../../server/app.ts";
import { ADMIN_AUTH, TEST_ADMIN } from "./credentials.ts";
import { testDatabase } from "./postgres.ts";
import { tempDir } from "./temp.ts";

/** A registry and its HTTP handler; `request` builds and sends a request to it. */
export interface TestApp {
  reg: Registry;
  app: App;
  /** The pull-through cache, when `upstreams` were given. */
  mirror: Mirror | null;
  auth: Authenticator;
  key: SigningKey;
  dataDir: string;
  /** The PostgreSQL database under MCR_TEST_DATABASE=postgres (open another registry on it with `database`), else undefined. */
  database: string | undefined;
  request(method: string, path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Opens a fresh registry in a temp dir. */
export async function testApp(
  options: { tokenTtlSeconds?: number; limits?: Partial<Limits>; upstreams?: UpstreamConfig[]; onMirrorEvent?: (event: MirrorEvent) => void; s3?: S3StoreOptions; database?: string } = {},
): Promise<TestApp> {
  const dataDir = tempDir("reg-");
  const database = options.database ?? (await testDatabase());
  const reg = await openRegistry(dataDir, { limits: options.limits, s3: options.s3, database });
  await ensureAdmin(reg, TEST_ADMIN.password);
  const key = ephemeralSigningKey();
  const auth = new Authenticator(reg, key, { tokenTtlSeconds: options.tokenTtlSeconds ?? 300 });
  const mirror = options.upstreams ? new Mirror(reg, options.upstreams, options.onMirrorEvent) : null;
  const app = createApp(reg, { auth, mirror });
  const connection = { requestIP: () => ({ address: "127.0.0.1" }) };
  return {
    reg,
    app,
    mirror,
    auth,
    key,
    dataDir,
    database,
    request: (method, path, init = {}) => {
      const headers = new Headers(init.headers);
      if (!headers.has("authorization")) headers.set("authorization", ADMIN_AUTH);
      return app.fetch(new Request(`http://registry.test${path}`, { method, ...init, headers }), connection);
    },
    close: async () => {
      await mirror?.close();
      await reg.close();
    },
  };
}
