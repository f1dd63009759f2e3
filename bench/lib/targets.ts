/**
 * @module The registries under test: mcr from source and from dist/mcr,
 * and CNCF Distribution (Debian's docker-registry), each started on
 * 127.0.0.1 with its data in the bench's temp dir, and the two ways each
 * is called: with authentication ("auth") and without ("anon").
 *
 * mcr cannot run without authentication. Its "anon" mode is anonymous
 * access granted by one policy rule (subjects = ["anonymous"], every
 * action, every repository), applied with `mcr policy apply -f` before the
 * server starts; "auth" is a normal user (role user, so the policy is
 * evaluated) going through the Docker token flow. Distribution's "anon" is
 * its default (no auth section); its "auth" is a second Distribution
 * process on the same storage with htpasswd (bcrypt) auth, which clients
 * answer with Basic credentials on every request.
 */
import { existsSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const modes = ["auth", "anon"] as const;
export type Mode = (typeof modes)[number];

/** `mcr-pg` is mcr from source with its metadata on PostgreSQL (a throwaway local cluster): only when asked for. */
export const targetIds = ["mcr-src", "mcr-w2", "mcr-bin", "distribution", "bun-bare", "mcr-pg"] as const;
export type TargetId = (typeof targetIds)[number];

/** One registry server process, and how to call it in one mode. */
export interface Endpoint {
  url: string;
  pid: number;
  /** Every process serving it (the workers and their supervisor), for CPU. */
  pids: number[];
  /**
   * The Authorization value for a scope (Docker token scope syntax), or
   * null for none. A token is reused for half its life unless `fresh`.
   */
  authorize(scope: string, fresh?: boolean): Promise<string | null>;
}

/** A running registry under test. */
export interface Target {
  id: TargetId;
  label: string;
  endpoint(mode: Mode): Endpoint;
  /** The workloads it takes part in (all when absent): the bare server only pushes and answers small requests. */
  workloads?: readonly string[];
  /** Every server process of this target (for memory). */
  pids(): number[];
  stop(): Promise<void>;
}

const ROOT = join(import.meta.dir, "..", "..");
const USER = "bench";
const PASSWORD = "bench-password";
const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;

/** The binary of the compiled mcr, when it has been built. */
export function mcrBinary(): string | null {
  const path = join(ROOT, "dist", "mcr");
  return existsSync(path) ? path : null;
}

/** Starts mcr (`cmd` runs its CLI) on a fresh data dir under `dir`; `workers` > 1 runs `serve --workers`; `env` adds to its environment. */
export async function startMcr(id: "mcr-src" | "mcr-w2" | "mcr-bin" | "mcr-pg", cmd: string[], dir: string, workers = 1, env: Record<string, string> = {}): Promise<Target> {
  const dataDir = join(dir, "data");
  mkdirSync(dataDir, { recursive: true });
  const run = (args: string[], stdin?: string) => {
    const result = Bun.spawnSync([...cmd, ...args, "--data", dataDir], { cwd: ROOT, env: { ...process.env, ...env }, stdin: stdin ? Buffer.from(stdin) : "ignore" });
    if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")} ${args.join(" ")}: ${result.stderr.toString()}${result.stdout.toString()}`);
    return result.stdout.toString();
  };
  run(["user", "add", USER, "--role", "user", "--password-stdin"], `${PASSWORD}\n`);
  const policy = `${run(["policy", "show"])}
[[rule]]
id = "bench-anonymous"
priority = 0
effect = "allow"
subjects = ["anonymous"]
actions = ["pull", "push", "delete", "overwrite", "catalog"]
repositories = ["**"]
enabled = true
description = "bench: anonymous access, standing in for 'auth off'"
`;
  const policyFile = join(dir, "policy.toml");
  writeFileSync(policyFile, policy);
  run(["policy", "apply", "-f", policyFile]);

  const log = join(dir, "server.log");
  const proc = Bun.spawn([...cmd, "serve", "--listen", "127.0.0.1:0", "--data", dataDir, "--workers", String(workers)], {
    cwd: ROOT,
    env: { ...process.env, ...env, MCR_ADMIN_PASSWORD: "bench-admin-password" },
    stdin: "ignore",
    stdout: Bun.file(log),
    stderr: Bun.file(log),
  });
  const url = await waitForLine(log, /^mcr listening on (http:\/\/\S+) /, proc);
  const host = new URL(url).host;
  // The supervisor and its workers, as it reported them ready.
  const workerPids = [...(await Bun.file(log).text()).matchAll(/^worker \d+ ready \(pid (\d+)\)/gm)].map((m) => Number(m[1]));
  const pids = [proc.pid, ...workerPids];
  const tokens = new Map<string, { value: string; until: number }>();
  const authorize = async (scope: string, fresh = false) => {
    const cached = tokens.get(scope);
    if (cached && cached.until > Date.now() && !fresh) return cached.value;
    const res = await fetch(`${url}/v2/token?service=${encodeURIComponent(host)}&scope=${encodeURIComponent(scope)}`, {
      headers: { Authorization: basic },
    });
    if (!res.ok) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { token: string; expires_in: number };
    const value = `Bearer ${body.token}`;
    // Renewed well before it expires, as clients do.
    tokens.set(scope, { value, until: Date.now() + (body.expires_in * 1000) / 2 });
    return value;
  };
  return {
    id,
    label: id === "mcr-src" ? "mcr (source)" : id === "mcr-w2" ? `mcr (source, ${workers} workers)` : id === "mcr-pg" ? "mcr (source, PostgreSQL)" : "mcr (binary)",
    endpoint: (mode) => ({ url, pid: proc.pid, pids, authorize: mode === "auth" ? authorize : async () => null }),
    pids: () => pids,
    stop: () => stopProcess(proc),
  };
}

/**
 * Starts Distribution twice on one storage root: without auth, and with
 * htpasswd. `storageDriver` replaces the filesystem driver's YAML lines
 * (indented under `storage:`), e.g. an `s3:` section.
 */
export async function startDistribution(dir: string, storageDriver?: string[]): Promise<Target> {
  const storage = join(dir, "storage");
  mkdirSync(storage, { recursive: true });
  const htpasswd = join(dir, "htpasswd");
  writeFileSync(htpasswd, `${USER}:${await Bun.password.hash(PASSWORD, { algorithm: "bcrypt", cost: 5 })}\n`);
  const start = async (name: string, withAuth: boolean) => {
    const port = await freePort();
    const config = join(dir, `${name}.yml`);
    // Distribution's sample configuration, minus what needs a network: filesystem storage, inmemory cache, deletes on.
    writeFileSync(
      config,
      [
        "version: 0.1",
        "log:",
        "  fields:",
        "    service: registry",
        "storage:",
        "  cache:",
        "    blobdescriptor: inmemory",
        ...(storageDriver ?? ["  filesystem:", `    rootdirectory: ${storage}`]),
        "  delete:",
        "    enabled: true",
        "http:",
        `  addr: 127.0.0.1:${port}`,
        ...(withAuth ? ["auth:", "  htpasswd:", "    realm: bench", `    path: ${htpasswd}`] : []),
        "",
      ].join("\n"),
    );
    const log = join(dir, `${name}.log`);
    const fd = openSync(log, "a");
    // aws-sdk-go panics on AWS_CA_BUNDLE with Distribution's own HTTP transport ("LoadCustomCABundleError"); the gateway is plain HTTP.
    const { AWS_CA_BUNDLE: _bundle, ...env } = process.env;
    const proc = Bun.spawn(["docker-registry", "serve", config], { env, stdin: "ignore", stdout: fd, stderr: fd });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/v2/`, proc, log);
    return { proc, url };
  };
  const anon = await start("distribution", false);
  const auth = await start("distribution-htpasswd", true);
  return {
    id: "distribution",
    label: "Distribution",
    endpoint: (mode) =>
      mode === "auth"
        ? { url: auth.url, pid: auth.proc.pid, pids: [auth.proc.pid], authorize: async () => basic }
        : { url: anon.url, pid: anon.proc.pid, pids: [anon.proc.pid], authorize: async () => null },
    pids: () => [anon.proc.pid, auth.proc.pid],
    stop: async () => {
      await stopProcess(anon.proc);
      await stopProcess(auth.proc);
    },
  };
}

/** Starts the bare Bun.serve (bare-server.ts): the runtime's ceiling, with no auth in either mode. */
export async function startBare(dir: string): Promise<Target> {
  const log = join(dir, "bare.log");
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "bare-server.ts")], { stdin: "ignore", stdout: Bun.file(log), stderr: Bun.file(log) });
  const url = await waitForLine(log, /^listening on (http:\/\/\S+)/, proc);
  return {
    id: "bun-bare",
    label: "bare Bun.serve",
    workloads: ["push", "requests"],
    endpoint: () => ({ url, pid: proc.pid, pids: [proc.pid], authorize: async () => null }),
    pids: () => [proc.pid],
    stop: () => stopProcess(proc),
  };
}

async function stopProcess(proc: Bun.Subprocess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await proc.exited;
  clearTimeout(killer);
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

async function waitForLine(path: string, pattern: RegExp, proc: Bun.Subprocess): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    const text = existsSync(path) ? await Bun.file(path).text() : "";
    for (const line of text.split("\n")) {
      const match = pattern.exec(line);
      if (match?.[1]) return match[1];
    }
    await Bun.sleep(50);
  }
  proc.kill("SIGKILL");
  throw new Error(`server did not start; its log (${path}):\n${existsSync(path) ? await Bun.file(path).text() : ""}`);
}

async function waitForHttp(url: string, proc: Bun.Subprocess, log: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && proc.exitCode === null) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(50);
  }
  proc.kill("SIGKILL");
  throw new Error(`server at ${url} did not start; its log (${log}):\n${await Bun.file(log).text()}`);
}
