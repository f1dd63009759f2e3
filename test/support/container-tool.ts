/**
 * @module podman, buildah and skopeo for end-to-end tests, each isolated in its own temp dir:
 * HOME and XDG dirs, vfs storage, registries.conf, trust policy and blob info cache.
 */
import { test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { ServerProcess } from "./server-process.ts";
import { tempDir } from "./temp.ts";

export const CONTAINER_TOOLS = ["podman", "buildah", "skopeo"] as const;
export type ContainerToolName = (typeof CONTAINER_TOOLS)[number];

/**
 * Where containers/image keeps its blob info cache when run as root, whatever
 * --root says (podman 4.3 and skopeo both use it). A shared cache remembers blobs
 * from other runs and makes a client mount or skip instead of uploading.
 */
export const SHARED_BLOB_INFO_CACHE = "/var/lib/containers/cache";
const CACHE_FILE = "blob-info-cache-v1.boltdb";
const DEFAULT_TIMEOUT_MS = 60_000;
/** Runs in a private mount namespace: bind $0 over $1, then exec the client. */
const BIND_AND_EXEC = 'mount --bind "$0" "$1" || exit 125; shift; exec "$@"';

/** What one client command did. */
export interface ToolResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Per-command options. */
export interface RunOptions {
  timeoutMs?: number;
  /** Working directory; podman and buildah name an `oci:` image after its path as given, so pass a relative one. */
  cwd?: string;
}

/** One isolated client. */
export interface ContainerTool {
  name: ContainerToolName;
  /** The temp dir holding everything this client writes. */
  dir: string;
  /** Its image storage (podman/buildah `--root`). */
  storageRoot: string;
  /** The blob info cache file this client uses instead of the shared one. */
  blobInfoCacheFile: string;
  /** `--signature-policy FILE`, for podman/buildah commands that copy images. */
  signaturePolicy: string[];
  /** Runs the client; throws with its stderr and the server's log unless it exits 0. */
  run(args: string[], opts?: RunOptions): Promise<string>;
  /** Runs the client and returns whatever happened. */
  result(args: string[], opts?: RunOptions): Promise<ToolResult>;
  /** `<client> login` to the registry; the credentials land in this client's own auth file. */
  login(username: string, password: string): Promise<void>;
}

/**
 * The path of `name`, or undefined after registering why its tests do not run:
 * a warning locally, a failing test when CI is set.
 */
export function requireTool(name: ContainerToolName, testFile: string): string | undefined {
  const bin = Bun.which(name);
  if (bin) return bin;
  if (process.env.CI) {
    test(`${name} is installed (required when CI is set)`, () => {
      throw new Error(`${name} is not on PATH; CI must run ${testFile}`);
    });
  } else {
    console.warn(`skipping ${testFile}: ${name} is not on PATH`);
  }
  return undefined;
}

/** The deepest existing directory on the way to `path`. */
function deepestExisting(path: string): string {
  let dir = path;
  while (!existsSync(dir)) dir = dirname(dir);
  return dir;
}

let unshareWorks: boolean | undefined;

/**
 * As root the cache path is fixed, so the client runs in a private mount namespace
 * with an empty dir bound over it; otherwise it follows XDG_DATA_HOME.
 */
function cacheIsolation(dir: string, dataHome: string): { prefix: string[]; cacheFile: string } {
  if (process.getuid?.() !== 0) return { prefix: [], cacheFile: join(dataHome, "containers", "cache", CACHE_FILE) };
  unshareWorks ??= Bun.spawnSync(["unshare", "--mount", "--propagation", "private", "true"]).exitCode === 0;
  if (!unshareWorks) {
    throw new Error(`running as root without 'unshare --mount': cannot give the client a private ${SHARED_BLOB_INFO_CACHE}`);
  }
  const target = deepestExisting(SHARED_BLOB_INFO_CACHE);
  if (target.split("/").length < 3) throw new Error(`refusing to bind a private dir over ${target}`);
  const shadow = join(dir, "shadow-cache");
  mkdirSync(shadow);
  return {
    prefix: ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", BIND_AND_EXEC, shadow, target],
    cacheFile: join(shadow, relative(target, SHARED_BLOB_INFO_CACHE), CACHE_FILE),
  };
}

/** Creates the private dirs and config files of one client and returns how to run it. */
export function containerTool(
  name: ContainerToolName,
  opts: { registryHost: string; server?: ServerProcess; bin?: string },
): ContainerTool {
  const bin = opts.bin ?? Bun.which(name) ?? name;
  const dir = tempDir(`${name}-`);
  const at = (...parts: string[]) => join(dir, ...parts);
  const home = at("home");
  const configHome = at("home", ".config");
  const dataHome = at("home", ".local", "share");
  for (const d of [configHome, dataHome, at("tmp"), at("run"), at("libpod-tmp"), at("networks"), at("registries.d")]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
  }
  const storageRoot = at("storage");
  const runRoot = at("run", "storage");
  const policy = at("policy.json");
  const policyText = JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] });
  writeFileSync(policy, policyText);
  // Also the per-user default, read by any command that is not given a policy.
  mkdirSync(join(configHome, "containers"), { recursive: true });
  writeFileSync(join(configHome, "containers", "policy.json"), policyText);
  const registries = at("registries.conf");
  writeFileSync(
    registries,
    `unqualified-search-registries = []\n\n[[registry]]\nlocation = "${opts.registryHost}"\ninsecure = true\n`,
  );
  const storageConf = at("storage.conf");
  writeFileSync(storageConf, `[storage]\ndriver = "vfs"\ngraphroot = "${storageRoot}"\nrunroot = "${runRoot}"\n`);
  const containersConf = at("containers.conf");
  writeFileSync(
    containersConf,
    `[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n\n[network]\nnetwork_config_dir = "${at("networks")}"\n`,
  );
  const { prefix, cacheFile } = cacheIsolation(dir, dataHome);

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    LANG: "C",
    HOME: home,
    TMPDIR: at("tmp"),
    XDG_RUNTIME_DIR: at("run"),
    XDG_CONFIG_HOME: configHome,
    XDG_DATA_HOME: dataHome,
    XDG_CACHE_HOME: at("home", ".cache"),
    CONTAINERS_REGISTRIES_CONF: registries,
    CONTAINERS_STORAGE_CONF: storageConf,
    CONTAINERS_CONF: containersConf,
    BUILDAH_ISOLATION: "chroot",
  };
  const storageArgs = ["--root", storageRoot, "--runroot", runRoot, "--storage-driver", "vfs"];
  const globalArgs: Record<ContainerToolName, string[]> = {
    podman: [
      ...storageArgs,
      ...["--tmpdir", at("libpod-tmp"), "--network-config-dir", at("networks"), "--volumepath", at("volumes")],
      ...["--events-backend", "file", "--cgroup-manager", "cgroupfs"],
    ],
    buildah: [...storageArgs, "--registries-conf", registries, "--registries-conf-dir", at("registries.d")],
    skopeo: ["--policy", policy, "--registries.d", at("registries.d"), "--tmpdir", at("tmp")],
  };

  async function result(args: string[], runOpts: RunOptions = {}): Promise<ToolResult> {
    const proc = Bun.spawn([...prefix, bin, ...globalArgs[name], ...args], {
      cwd: runOpts.cwd ?? dir,
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: runOpts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      killSignal: "SIGKILL",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, signal: proc.signalCode === null ? null : String(proc.signalCode), stdout, stderr };
  }

  async function run(args: string[], runOpts: RunOptions = {}): Promise<string> {
    const r = await result(args, runOpts);
    if (r.code === 0) return r.stdout;
    const timeoutMs = runOpts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const why = r.signal ? `killed by ${r.signal} (timeout ${timeoutMs} ms?)` : `exited ${r.code}`;
    const server = opts.server ? `\n--- server output ---\n${opts.server.output()}` : "";
    throw new Error(`${name} ${args.join(" ")} ${why}\n--- ${name} stderr ---\n${r.stderr}${server}`);
  }

  return {
    name,
    dir,
    storageRoot,
    blobInfoCacheFile: cacheFile,
    signaturePolicy: ["--signature-policy", policy],
    run,
    result,
    async login(username, password) {
      await run(["login", "--tls-verify=false", "--username", username, "--password", password, opts.registryHost]);
    },
  };
}

/** Whether the client's private blob info cache has recorded anything about `text` (e.g. the registry host). */
export function blobInfoCacheMentions(tool: ContainerTool, text: string): boolean {
  return existsSync(tool.blobInfoCacheFile) && readFileSync(tool.blobInfoCacheFile).includes(text);
}

/** The last non-empty line a command printed (podman and buildah print an image id or container name there). */
export function lastLine(out: string): string {
  const lines = out.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines[lines.length - 1] ?? "";
}

/** The OCI architecture name of this machine. */
export function hostArch(): string {
  return process.arch === "x64" ? "amd64" : process.arch;
}
