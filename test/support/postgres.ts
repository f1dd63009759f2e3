/**
 * @module A real PostgreSQL for the database-backed tests: one throwaway
 * cluster per `bun test` run (Debian's `postgresql` binaries, `initdb` and
 * `pg_ctl` as the `postgres` system user when run as root), on a free
 * loopback port with its socket in its own temp dir, started on first use
 * and removed when the run ends; a fresh database for each registry.
 * Without the binaries, `postgresSkipReason()` says why and the PG runs skip
 * (CI installs them, and sets MCR_TEST_REQUIRE_POSTGRES so a skip fails).
 */
import { SQL } from "bun";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

interface Cluster {
  dir: string;
  port: number;
  admin: SQL;
}

let cluster: Promise<Cluster> | null = null;
const stoppers: (() => void)[] = [];

/** Stops the run's cluster and removes its files (the preload calls it when the run ends). */
export function stopPostgres(): void {
  for (const stop of stoppers.splice(0)) stop();
  cluster = null;
}
let databases = 0;

/** Where Debian keeps the server binaries (the newest version installed), or null. */
function binDir(): string | null {
  if (process.env.MCR_PG_BIN) return existsSync(join(process.env.MCR_PG_BIN, "initdb")) ? process.env.MCR_PG_BIN : null;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : null;
}

/** Why the PostgreSQL runs cannot happen here, or null when they can. */
export function postgresSkipReason(): string | null {
  if (!binDir()) return "PostgreSQL server binaries not found (apt-get install postgresql, or set MCR_PG_BIN)";
  if (userInfo().uid === 0 && !postgresUid()) return "running as root and there is no `postgres` system user to run the server";
  return null;
}

/** Whether the suites that run against both databases include PostgreSQL this run (MCR_TEST_DATABASE=postgres). */
export function testingOnPostgres(): boolean {
  return process.env.MCR_TEST_DATABASE === "postgres";
}

function postgresUid(): { uid: number; gid: number } | null {
  const line = Bun.spawnSync(["id", "-u", "postgres"]).stdout.toString().trim();
  const group = Bun.spawnSync(["id", "-g", "postgres"]).stdout.toString().trim();
  return line && group ? { uid: Number(line), gid: Number(group) } : null;
}

/** Runs a server binary, as `postgres` when we are root (the server refuses to run as root). */
function run(bin: string, args: string[]): void {
  const command = userInfo().uid === 0 ? ["runuser", "-u", "postgres", "--", bin, ...args] : [bin, ...args];
  const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${result.stderr.toString()}${result.stdout.toString()}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function start(): Promise<Cluster> {
  const reason = postgresSkipReason();
  if (reason) throw new Error(reason);
  const bin = binDir()!;
  // Not under the run's temp root: that is 0700 and the server runs as another user.
  const dir = mkdtempSync(join(tmpdir(), "mcr-pg-"));
  const owner = userInfo().uid === 0 ? postgresUid() : null;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const port = await freePort();
  const data = join(dir, "data");
  const stop = () => {
    Bun.spawnSync(userInfo().uid === 0 ? ["runuser", "-u", "postgres", "--", join(bin, "pg_ctl"), "stop", "-D", data, "-m", "immediate"] : [join(bin, "pg_ctl"), "stop", "-D", data, "-m", "immediate"], { stdout: "ignore", stderr: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  };
  stoppers.push(stop);
  process.once("exit", stopPostgres);
  try {
    run(join(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--no-instructions"]);
    // Durability off: a test cluster lives for one run.
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
    run(join(bin, "pg_ctl"), ["start", "-D", data, "-w", "-t", "60", "-l", join(dir, "log"), "-o", options]);
  } catch (error) {
    stop();
    throw error;
  }
  if (process.env.MCR_PG_DEBUG) console.error(`postgres test cluster on port ${port} (pid ${process.pid})`);
  const admin = new SQL({ url: `postgres://postgres@127.0.0.1:${port}/postgres`, max: 1 });
  return { dir, port, admin };
}

/** A connection URL to a new, empty database on the run's cluster (started on first use). */
export async function postgresDatabase(): Promise<string> {
  cluster ??= start();
  const { port, admin } = await cluster;
  const name = `mcr_${process.pid}_${++databases}`;
  await admin.unsafe(`create database ${name}`);
  return `postgres://postgres@127.0.0.1:${port}/${name}`;
}

/** The database to open a test registry on: a new PostgreSQL database under MCR_TEST_DATABASE=postgres, else undefined (SQLite in the data dir). */
export async function testDatabase(): Promise<string | undefined> {
  return testingOnPostgres() ? postgresDatabase() : undefined;
}

/**
 * Whether this file's PostgreSQL tests can run; when they cannot, prints why
 * (they skip), unless MCR_TEST_REQUIRE_POSTGRES is set (CI), where a
 * missing PostgreSQL is a failure rather than a quiet skip.
 */
export function postgresAvailable(file: string): boolean {
  const reason = postgresSkipReason();
  if (reason === null) return true;
  if (process.env.MCR_TEST_REQUIRE_POSTGRES) throw new Error(`${file}: PostgreSQL is required here (MCR_TEST_REQUIRE_POSTGRES) but ${reason}`);
  console.log(`skip: ${file} needs PostgreSQL: ${reason}`);
  return false;
}

