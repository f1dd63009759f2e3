/**
 * @module A private containerd daemon for end-to-end tests: its own root,
 * state and socket in a temp dir (CRI and the snapshotters that need
 * kernel support disabled), so `ctr content fetch` runs a real pull
 * through containerd's resolver and fetcher into an empty content store.
 * Needs root (containerd's store is owned by root).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./temp.ts";

/** A running private containerd. */
export interface Containerd {
  /** Runs `ctr --address SOCK ARGS`; resolves with stdout's bytes, throws with stderr unless it exits 0. */
  ctr(args: string[]): Promise<Uint8Array>;
  /** The bytes of `digest` in its content store. */
  content(digest: string): Promise<Uint8Array>;
  /** Every digest in its content store. */
  digests(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Whether a private containerd can run here (both binaries, and root). */
export const canRunContainerd = Bun.which("containerd") !== null && Bun.which("ctr") !== null && process.getuid?.() === 0;

/** Starts containerd in a fresh temp dir and waits until ctr reaches it. */
export async function startContainerd(): Promise<Containerd> {
  const dir = tempDir("containerd-");
  const sock = join(dir, "containerd.sock");
  const config = join(dir, "config.toml");
  const disabled = ["cri", "snapshotter.v1.btrfs", "snapshotter.v1.zfs", "snapshotter.v1.devmapper", "snapshotter.v1.aufs"];
  writeFileSync(
    config,
    [
      "version = 2",
      `root = "${join(dir, "root")}"`,
      `state = "${join(dir, "state")}"`,
      `disabled_plugins = [${disabled.map((p) => `"io.containerd.${p.startsWith("cri") ? "grpc.v1.cri" : p}"`).join(", ")}]`,
      `[grpc]\n  address = "${sock}"`,
      `[ttrpc]\n  address = "${sock}.ttrpc"`,
      `[debug]\n  address = ""`,
      `[metrics]\n  address = ""`,
      "",
    ].join("\n"),
  );
  const proc = Bun.spawn(["containerd", "--config", config], { stdout: "ignore", stderr: "pipe", stdin: "ignore" });
  const stderr = new Response(proc.stderr).text();
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, LANG: "C" };

  async function ctr(args: string[]): Promise<Uint8Array> {
    const p = Bun.spawn(["ctr", "--address", sock, ...args], { cwd: dir, env, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 120_000, killSignal: "SIGKILL" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`ctr ${args.join(" ")} exited ${code}: ${err}`);
    return new Uint8Array(out);
  }

  for (let i = 0; ; i++) {
    const up = await ctr(["version"]).then(() => true, () => false);
    if (up) break;
    if (i > 100 || proc.exitCode !== null) {
      proc.kill("SIGKILL");
      throw new Error(`containerd did not start: ${(await stderr).slice(-2000)}`);
    }
    await Bun.sleep(50);
  }
  return {
    ctr,
    content: (digest) => ctr(["content", "get", digest]),
    async digests() {
      const out = new TextDecoder().decode(await ctr(["content", "ls", "--quiet"]));
      return out.split("\n").filter((l) => l.startsWith("sha256:"));
    },
    async stop() {
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await proc.exited;
      clearTimeout(killer);
    },
  };
}
