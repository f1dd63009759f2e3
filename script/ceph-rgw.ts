/**
 * @module A real S3 endpoint on this machine: one Ceph monitor, one OSD
 * (memstore: starts in under a second, keeps everything in RAM and loses
 * it on exit) and one RADOS Gateway, as plain processes in one directory,
 * bound to loopback, auth between them off. Used by the S3 tests; run
 * alone (`bun script/ceph-rgw.ts`) it prints the endpoint and keys and
 * stays up until Ctrl-C. Needs Debian's ceph-mon, ceph-osd, radosgw and
 * ceph-common. The facts behind each config line: docs/s3.md.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A running gateway. */
export interface Rgw {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  dir: string;
  pids: number[];
  /** Kills the processes (SIGKILL: radosgw's graceful exit takes ~11 s) and removes the directory. */
  stop(): void;
}

/** The executables it needs; the names of those missing. */
export function missingCephTools(): string[] {
  return ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph"].filter((tool) => !Bun.which(tool));
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/**
 * memstore's device size: Ceph's default (1 GiB) makes the OSD report
 * itself full after ~0.95 GiB and RGW then blocks every write without an
 * error (the bench's 1 GiB pushes hung). It is only a reported size: RAM
 * holds what is written.
 */
const MEMSTORE_BYTES = 8 * 1024 ** 3;

function config(dir: string, fsid: string, monPort: number, rgwPort: number, memstoreBytes: number): string {
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
mon allow pool size one = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
paxos propose interval = 0.01
paxos min wait = 0.001
mon data avail crit = 1
osd objectstore = memstore
memstore device bytes = ${memstoreBytes}
rgw gc obj min wait = 30
run dir = ${dir}/run
log file = ${dir}/log/$name.log
pid file = ${dir}/run/$name.pid
admin socket = ${dir}/run/$name.asok
crash dir = ${dir}/crash
mon cluster log file = ${dir}/log/cluster.log
[mon.a]
mon data = ${dir}/mon
[osd.0]
osd data = ${dir}/osd
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort} tcp_nodelay=1
`;
}

async function run(cmd: string[], dir: string): Promise<string> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", cwd: dir });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${err.trim() || out.trim()}`);
  return out;
}

/** Starts the three processes in `dir` (created); resolves once the gateway answers. */
export async function startRgw(dir: string, timeoutMs = 60_000, memstoreBytes = MEMSTORE_BYTES): Promise<Rgw> {
  for (const sub of ["run", "log", "crash", "mon", "osd"]) mkdirSync(join(dir, sub), { recursive: true });
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const conf = join(dir, "ceph.conf");
  const fsid = crypto.randomUUID();
  writeFileSync(conf, config(dir, fsid, monPort, rgwPort, memstoreBytes));
  const pids: number[] = [];
  const stop = () => {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Each daemon runs under a small shell that kills it once this process is gone: a test run
  // that ends without its exit handlers (a crash, a runner that skips them) leaves nothing running.
  const spawn = async (cmd: string[]) => {
    const pidFile = join(dir, "run", `watched-${pids.length}.pid`);
    const watch = `"$@" & c=$!; echo $c > '${pidFile}'; while kill -0 ${process.pid} 2>/dev/null && kill -0 $c 2>/dev/null; do sleep 0.5; done; kill -9 $c 2>/dev/null`;
    const proc = Bun.spawn(["sh", "-c", watch, "sh", ...cmd], { stdout: "ignore", stderr: "ignore", cwd: dir });
    proc.unref();
    pids.push(proc.pid);
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await Bun.sleep(10);
    pids.push(Number(readFileSync(pidFile, "utf8")));
  };
  try {
    await run(["monmaptool", "--create", "--addv", "a", `[v2:127.0.0.1:${monPort}]`, "--fsid", fsid, join(dir, "monmap")], dir);
    await run(["ceph-mon", "-c", conf, "--mkfs", "-i", "a", "--monmap", join(dir, "monmap")], dir);
    await spawn(["ceph-mon", "-c", conf, "-i", "a", "-f"]);
    const osdUuid = crypto.randomUUID();
    const id = (await run(["ceph", "-c", conf, "--connect-timeout", "20", "osd", "create", osdUuid], dir)).trim();
    await run(["ceph-osd", "-c", conf, "-i", id, "--mkfs", "--osd-uuid", osdUuid], dir);
    await spawn(["ceph-osd", "-c", conf, "-i", id, "-f"]);
    await spawn(["radosgw", "-c", conf, "-n", "client.rgw", "-f"]);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const up = await fetch(endpoint, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.status > 0,
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline) throw new Error(`radosgw did not answer within ${timeoutMs} ms; logs in ${dir}/log`);
      await Bun.sleep(100);
    }
    const accessKeyId = `MCRTEST${crypto.randomUUID().replace(/-/g, "").slice(0, 13).toUpperCase()}`;
    const secretAccessKey = crypto.randomUUID().replace(/-/g, "");
    await run(["radosgw-admin", "-c", conf, "-n", "client.rgw", "user", "create", "--uid=mcr", "--display-name=mcr", `--access-key=${accessKeyId}`, `--secret=${secretAccessKey}`], dir);
    return { endpoint, accessKeyId, secretAccessKey, dir, pids, stop };
  } catch (error) {
    const log = (name: string) => {
      try {
        return readFileSync(join(dir, "log", name), "utf8").split("\n").slice(-15).join("\n");
      } catch {
        return "";
      }
    };
    const detail = `${log("mon.a.log")}\n${log("osd.0.log")}\n${log("client.rgw.log")}`;
    stop();
    throw new Error(`${(error as Error).message}\n${detail}`);
  }
}

if (import.meta.main) {
  const dir = process.argv[2] ?? `/tmp/mcr-rgw-${process.pid}`;
  const started = Date.now();
  const rgw = await startRgw(dir);
  console.log(`endpoint ${rgw.endpoint}\naccess_key_id ${rgw.accessKeyId}\nsecret_access_key ${rgw.secretAccessKey}\nstarted in ${Date.now() - started} ms; Ctrl-C stops it`);
  process.on("SIGINT", () => {
    rgw.stop();
    process.exit(0);
  });
  await new Promise(() => {});
}
