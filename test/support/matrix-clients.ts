/**
 * @module The real clients of the login matrix (test/e2e/login-matrix.test.ts)
 * behind one small interface: log in, push an OCI layout, pull it back with
 * its digests checked, list tags. Credentials live in each client's own auth
 * file, as on a real host, so a stale file can be planted to be retried.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { containerTool, lastLine, type ContainerTool, type ContainerToolName } from "./container-tool.ts";
import { sha256, type ImageWritten } from "./oci-layout.ts";
import type { ServerProcess } from "./server-process.ts";
import { tempDir } from "./temp.ts";

/** Clients the matrix can drive: the containers/image family and containerd's ctr. */
export type MatrixClientName = ContainerToolName | "ctr";

/** A client command that did not exit 0; `stderr` is the client's own, without the server's log. */
export class ClientFailed extends Error {
  constructor(
    readonly client: string,
    readonly stderr: string,
  ) {
    super(`${client} failed: ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
  }
}

/** An image as the registry holds it after a push. */
export interface Pushed {
  manifestDigest: string;
  configDigest: string;
}

/** One client with its own storage and auth file. */
export interface MatrixClient {
  name: MatrixClientName;
  /** `<client> login`; undefined for a client without one (ctr takes `--user` per command). */
  login?: (user: string, password: string) => Promise<void>;
  /** Overwrites the auth file, as a password changed elsewhere leaves it (ctr: the `--user` it sends). */
  storeCredentials(user: string, password: string): void;
  /** Pushes `image` to `repo:tag` with the stored credentials; undefined when the client cannot push. */
  push?: (image: ImageWritten, repo: string, tag: string) => Promise<Pushed>;
  /** Pulls `repo:tag` into empty storage and checks it is `expected`, byte for byte as far as the client shows. */
  pull(repo: string, tag: string, expected: Pushed): Promise<void>;
  /** The tags of `repo`; undefined when the client has no such command. */
  listTags?: (repo: string) => Promise<string[]>;
}

/** An auth.json holding one registry's credentials, as every containers/image client writes it. */
function authJson(host: string, user: string, password: string): string {
  return JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } } });
}

/** Runs a containerTool command, throwing only the client's own stderr on failure. */
async function exec(tool: ContainerTool, args: string[], cwd?: string): Promise<string> {
  const r = await tool.result(args, { cwd });
  if (r.code !== 0) throw new ClientFailed(tool.name, r.signal ? `killed by ${r.signal}\n${r.stderr}` : r.stderr);
  return r.stdout;
}

function check(what: string, actual: string | undefined, expected: string): void {
  if (actual !== expected) throw new Error(`${what}: got ${actual}, expected ${expected}`);
}

/** skopeo: copies straight from and to OCI layouts on disk. */
function skopeoClient(server: ServerProcess, layouts: Map<ImageWritten, string>): MatrixClient {
  const tool = containerTool("skopeo", { registryHost: server.host, server });
  const authfile = join(tool.dir, "auth.json");
  const remote = (repo: string, tag: string) => `docker://${server.host}/${repo}:${tag}`;
  return {
    name: "skopeo",
    storeCredentials: (user, password) => writeFileSync(authfile, authJson(server.host, user, password)),
    async login(user, password) {
      await exec(tool, ["login", "--tls-verify=false", "--authfile", authfile, "-u", user, "-p", password, server.host]);
    },
    async push(image, repo, tag) {
      const digestFile = join(tempDir("digest-"), "digest");
      const from = `oci:${layouts.get(image)}:v1`;
      await exec(tool, ["copy", "--dest-tls-verify=false", "--authfile", authfile, "--preserve-digests", "--digestfile", digestFile, from, remote(repo, tag)]);
      return { manifestDigest: readFileSync(digestFile, "utf8").trim(), configDigest: image.configDigest };
    },
    async pull(repo, tag, expected) {
      const out = tempDir("skopeo-pull-");
      await exec(tool, ["copy", "--src-tls-verify=false", "--authfile", authfile, remote(repo, tag), `oci:${out}:${tag}`]);
      const blob = (digest: string) => {
        const bytes = new Uint8Array(readFileSync(join(out, "blobs", "sha256", digest.slice("sha256:".length))));
        check(`blob ${digest} hashes to`, sha256(bytes), digest);
        return bytes;
      };
      const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] };
      check("pulled manifest", index.manifests[0]?.digest, expected.manifestDigest);
      const manifest = JSON.parse(new TextDecoder().decode(blob(expected.manifestDigest))) as {
        config: { digest: string };
        layers: { digest: string }[];
      };
      check("pulled config", manifest.config.digest, expected.configDigest);
      for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) blob(d);
    },
    async listTags(repo) {
      const out = await exec(tool, ["list-tags", "--tls-verify=false", "--authfile", authfile, `docker://${server.host}/${repo}`]);
      return (JSON.parse(out) as { Tags: string[] }).Tags;
    },
  };
}

/**
 * podman or buildah: images are loaded from the layouts into a pusher's
 * storage, and pulled into a second, empty storage so that every blob
 * really comes over the network.
 */
async function storageClient(
  name: "podman" | "buildah",
  server: ServerProcess,
  layouts: Map<ImageWritten, string>,
): Promise<MatrixClient> {
  const pusher = containerTool(name, { registryHost: server.host, server });
  const puller = containerTool(name, { registryHost: server.host, server });
  const authfile = join(pusher.dir, "auth.json");
  const auth = ["--tls-verify=false", "--authfile", authfile];
  const local = new Map<ImageWritten, string>();
  for (const [image, dir] of layouts) {
    // A relative path: these clients name the loaded image after it, and temp paths have capitals.
    const id = lastLine(await exec(pusher, ["pull", "--quiet", ...pusher.signaturePolicy, `oci:${basename(dir)}:v1`], dirname(dir)));
    check(`${name} loaded ${dir}`, `sha256:${id}`, image.configDigest);
    local.set(image, id);
  }
  const inspect = async (ref: string) => {
    if (name === "podman") {
      const [img] = JSON.parse(await exec(puller, ["image", "inspect", ref])) as { Digest: string }[];
      return img?.Digest;
    }
    return (JSON.parse(await exec(puller, ["inspect", "--type", "image", ref])) as { FromImageDigest: string }).FromImageDigest;
  };
  return {
    name,
    storeCredentials: (user, password) => writeFileSync(authfile, authJson(server.host, user, password)),
    async login(user, password) {
      await exec(pusher, ["login", ...auth, "--username", user, "--password", password, server.host]);
    },
    async push(image, repo, tag) {
      const digestFile = join(tempDir("digest-"), "digest");
      const id = local.get(image) ?? "missing";
      await exec(pusher, ["push", ...auth, ...pusher.signaturePolicy, "--digestfile", digestFile, id, `docker://${server.host}/${repo}:${tag}`]);
      return { manifestDigest: readFileSync(digestFile, "utf8").trim(), configDigest: image.configDigest };
    },
    async pull(repo, tag, expected) {
      const ref = `${server.host}/${repo}:${tag}`;
      const id = lastLine(await exec(puller, ["pull", "--quiet", ...auth, ...puller.signaturePolicy, ref]));
      check(`${name} pulled image id`, `sha256:${id}`, expected.configDigest);
      check(`${name} pulled manifest`, await inspect(ref), expected.manifestDigest);
    },
    listTags:
      name === "podman"
        ? async (repo) => {
            const out = await exec(pusher, ["search", "--list-tags", "--format", "json", ...auth, `${server.host}/${repo}`]);
            return (JSON.parse(out) as { Tags: string[] }[])[0]?.Tags ?? [];
          }
        : undefined,
  };
}

/**
 * ctr without a containerd daemon: `content fetch-object` resolves a
 * reference and prints the object, which is all a pull needs to check bytes.
 * It cannot push without the daemon's content store.
 */
function ctrClient(server: ServerProcess, bin: string): MatrixClient {
  const dir = tempDir("ctr-");
  mkdirSync(join(dir, "home"));
  // No daemon listens here: a command that needed one would fail, not find the host's.
  const address = join(dir, "no-daemon.sock");
  let user = "";
  const fetchObject = async (ref: string): Promise<Uint8Array> => {
    const proc = Bun.spawn([bin, "--address", address, "content", "fetch-object", "--plain-http", "--user", user, ref], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(dir, "home"), LANG: "C" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
      killSignal: "SIGKILL",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).arrayBuffer(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new ClientFailed("ctr", stderr);
    return new Uint8Array(stdout);
  };
  const object = async (ref: string, digest: string) => {
    const bytes = await fetchObject(ref);
    check(`ctr ${ref} hashes to`, sha256(bytes), digest);
    return bytes;
  };
  return {
    name: "ctr",
    storeCredentials: (name, password) => {
      user = `${name}:${password}`;
    },
    async pull(repo, tag, expected) {
      const base = `${server.host}/${repo}`;
      const manifest = JSON.parse(new TextDecoder().decode(await object(`${base}:${tag}`, expected.manifestDigest))) as {
        config: { digest: string };
        layers: { digest: string }[];
      };
      check("ctr pulled config", manifest.config.digest, expected.configDigest);
      for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) await object(`${base}@${d}`, d);
    },
  };
}

/** The matrix's client `name`, isolated in fresh temp dirs. */
export async function matrixClient(
  name: MatrixClientName,
  server: ServerProcess,
  layouts: Map<ImageWritten, string>,
  bin: string,
): Promise<MatrixClient> {
  if (name === "ctr") return ctrClient(server, bin);
  if (name === "skopeo") return skopeoClient(server, layouts);
  return storageClient(name, server, layouts);
}
