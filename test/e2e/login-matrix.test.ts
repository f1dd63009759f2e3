/**
 * @module The real-client login matrix against one `mcr serve`: skopeo,
 * podman, buildah and ctr, all from 127.0.0.1 like one busy CI host, each
 * first trying a wrong password (and retrying it from a stale auth file),
 * then logging in, pushing, pulling back byte-exact and listing tags, with
 * its own account and with a shared `ci` account two of them got wrong
 * first. An outside review lost 18 of 96 such steps to login throttling;
 * here every correct-credential step must succeed and every wrong one fail
 * with an authentication error, never a throttle.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { basename, join } from "node:path";
import { cliOk } from "../support/cli.ts";
import { requireTool } from "../support/container-tool.ts";
import { ClientFailed, matrixClient, type MatrixClient, type MatrixClientName, type Pushed } from "../support/matrix-clients.ts";
import { writeImageLayout, type ImageWritten } from "../support/oci-layout.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

setDefaultTimeout(180_000);

const FILE = "test/e2e/login-matrix.test.ts";
/** What a client prints when the registry refused its credentials. */
const AUTH_ERROR = /unauthorized|authentication required|invalid username\/password|\b401\b/i;
/** What it prints when it was throttled instead: the lockout this test exists to rule out. */
const THROTTLED = /\b429\b|too many requests|retry-after/i;

/** ctr is not one of container-tool.ts's clients; the same rule: missing is a warning locally, a failure in CI. */
function requireCtr(): string | undefined {
  const bin = Bun.which("ctr");
  if (bin) return bin;
  if (process.env.CI) {
    test("ctr is installed (required when CI is set)", () => {
      throw new Error(`ctr is not on PATH (Debian package containerd); CI must run ${FILE}`);
    });
  } else {
    console.warn(`${FILE}: ctr is not on PATH (Debian package containerd); the matrix runs without it`);
  }
  return undefined;
}

const BINS: [MatrixClientName, string | undefined][] = [
  ["skopeo", requireTool("skopeo", FILE)],
  ["podman", requireTool("podman", FILE)],
  ["buildah", requireTool("buildah", FILE)],
  ["ctr", requireCtr()],
];
const PRESENT = BINS.filter((b): b is [MatrixClientName, string] => b[1] !== undefined);

/** One client action in the matrix, and what became of it. */
interface Step {
  client: MatrixClientName;
  account: string;
  action: string;
  creds: "right" | "wrong";
  /** The `repo:tag` this step pushes. */
  makes?: string;
  /** The `repo:tag` this step pulls: it waits its turn until the push of it has run. */
  needs?: string;
  run: () => Promise<void>;
  outcome?: "ok" | "failed" | "lost" | "throttled" | "error" | "succeeded!";
  detail?: string;
}

const password = (account: string) => `right-${account}-password`;
/** Each client has its own wrong password: two clients wrong about `ci` are two distinct guesses. */
const wrongFor = (client: string) => (account: string) => `wrong-${account}-password-of-${client}`;

describe.skipIf(PRESENT.length < 2)("login matrix: real clients, wrong passwords, one host", () => {
  let server: ServerProcess;
  const statuses = new Map<number, number>();
  const clients: MatrixClient[] = [];
  const own = new Map<MatrixClientName, ImageWritten>();
  const ci = new Map<MatrixClientName, ImageWritten>();
  const pushed = new Map<string, Pushed>();

  beforeAll(async () => {
    server = await startServerProcess({
      onLine: (line) => {
        const status = / (\d{3}) \S+B [\d.]+ms /.exec(line)?.[1];
        if (status) statuses.set(Number(status), (statuses.get(Number(status)) ?? 0) + 1);
      },
    });
    for (const account of ["ci", ...PRESENT.map(([name]) => `m-${name}`)]) {
      await cliOk(["user", "add", account, "--password-stdin", "--data", server.dataDir], { stdin: password(account) });
    }
    const layouts = new Map<ImageWritten, string>();
    const root = tempDir("matrix-layouts-");
    PRESENT.forEach(([name], i) => {
      // Lowercase names: podman and buildah name an image loaded from a layout after its directory.
      for (const [kind, images, seed] of [["own", own, 30 + i], ["ci", ci, 40 + i]] as const) {
        const dir = join(root, `${kind}-${name}`);
        images.set(name, writeImageLayout(dir, { tag: "v1", layers: 2, seed }));
        layouts.set(images.get(name)!, dir);
      }
    });
    for (const [name, bin] of PRESENT) {
      const mine = new Map([...layouts].filter(([, dir]) => basename(dir).endsWith(`-${name}`)));
      clients.push(await matrixClient(name, server, mine, bin));
    }
  });

  afterAll(async () => {
    await server?.stop();
  });

  /** The steps of one client, in its own order. */
  function plan(c: MatrixClient, source: MatrixClient | undefined, wrongCi: boolean): Step[] {
    const steps: Step[] = [];
    const wrong = wrongFor(c.name);
    const add = (account: string, creds: Step["creds"], action: string, run: () => Promise<void>, deps: Pick<Step, "makes" | "needs"> = {}) =>
      steps.push({ client: c.name, account, creds, action, run, ...deps });
    /** A pull with the wrong password in the auth file (ctr: on its command line). */
    const wrongPull = (account: string, repo: string) => async () => {
      c.storeCredentials(account, wrong(account));
      await c.pull(repo, "v1", { manifestDigest: "sha256:none", configDigest: "sha256:none" });
    };
    const tryWrong = (account: string, repo: string) => {
      if (c.login) add(account, "wrong", "login", () => c.login!(account, wrong(account)));
      else add(account, "wrong", "pull", wrongPull(account, repo));
      // The same wrong password again, as a client does with an auth file left stale.
      add(account, "wrong", "pull (stale)", wrongPull(account, repo));
    };
    const acct = `m-${c.name}`;
    const repo = `matrix/${c.name}`;
    tryWrong(acct, repo);
    if (c.push) {
      add(acct, "wrong", "push (stale)", async () => {
        c.storeCredentials(acct, wrong(acct));
        await c.push!(own.get(c.name)!, repo, "v1");
      });
    }
    if (wrongCi) tryWrong("ci", "ci/shared");
    /** Log in, push, pull back and list as `account`; a client that cannot push pulls `pullFrom` instead. */
    const rightRound = (account: string, repo: string, tag: string, image: ImageWritten, pullFrom: string) => {
      const key = `${repo}:${tag}`;
      if (c.login) add(account, "right", "login", () => c.login!(account, password(account)));
      if (c.push) add(account, "right", "push", async () => void pushed.set(key, await c.push!(image, repo, tag)), { makes: key });
      const from = c.push ? key : pullFrom;
      const [fromRepo, fromTag] = from.split(":") as [string, string];
      const pull = async () => {
        if (!c.login) c.storeCredentials(account, password(account));
        const expected = pushed.get(from);
        if (!expected) throw new Error(`nothing to pull: the push of ${from} was lost`);
        await c.pull(fromRepo, fromTag, expected);
      };
      add(account, "right", "pull", pull, { needs: from });
      if (c.listTags) {
        add(account, "right", "list tags", async () => {
          const tags = await c.listTags!(repo);
          if (!tags.includes(tag)) throw new Error(`tags of ${repo} lack ${tag}: ${tags.join(", ")}`);
        });
      }
    };
    rightRound(acct, repo, "v1", own.get(c.name)!, `matrix/${source?.name}:v1`);
    rightRound("ci", "ci/shared", c.name, ci.get(c.name)!, `ci/shared:${source?.name}`);
    return steps;
  }

  test("every correct-credential step succeeds and every wrong one fails with an auth error", async () => {
    const source = clients.find((c) => c.push);
    // podman (or the second client) tries a wrong ci password early; ctr (or the last) later, mid-stream.
    const wrongCi = new Set([clients[1]?.name, clients[clients.length - 1]?.name]);
    const queues = clients.map((c) => plan(c, source, wrongCi.has(c.name)));
    const all = queues.flat();
    const done: Step[] = [];
    const ran = new Set<string>();
    // A busy host: client k starts k rounds late, then one step per client per round.
    for (let round = 0; queues.some((q) => q.length > 0); round++) {
      let progressed = false;
      for (const [k, queue] of queues.entries()) {
        const step = queue[0];
        if (!step || round < k || (step.needs && !ran.has(step.needs))) continue;
        queue.shift();
        progressed = true;
        await runStep(step);
        done.push(step);
        if (step.makes) ran.add(step.makes);
      }
      if (!progressed && round > queues.length) throw new Error("the matrix is stuck: a pull waits for a push that never comes");
    }

    const table = done.map(
      (s, i) =>
        `${String(i + 1).padStart(3)}  ${s.client.padEnd(8)} ${s.account.padEnd(10)} ${s.creds.padEnd(6)} ${s.action.padEnd(13)} ${s.outcome}${s.detail ? `  ${s.detail}` : ""}`,
    );
    const right = done.filter((s) => s.creds === "right");
    const lost = right.filter((s) => s.outcome !== "ok");
    const wrongSteps = done.filter((s) => s.creds === "wrong");
    const badWrong = wrongSteps.filter((s) => s.outcome !== "failed");
    console.log(
      [
        `login matrix: ${done.length} steps (${right.length} correct, ${wrongSteps.length} wrong) by ${clients.map((c) => c.name).join(", ")}`,
        ...table,
        `lost correct steps: ${lost.length}; wrong steps not refused as auth errors: ${badWrong.length}`,
        `server answers: ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ")}`,
      ].join("\n"),
    );
    expect(done).toHaveLength(all.length);
    expect(lost.map((s) => `${s.client} ${s.account} ${s.action}: ${s.detail}`)).toEqual([]);
    expect(badWrong.map((s) => `${s.client} ${s.account} ${s.action}: ${s.outcome} ${s.detail ?? ""}`)).toEqual([]);
    // The wrong passwords reached the server and were refused there, and nothing was ever throttled.
    expect(statuses.get(401) ?? 0).toBeGreaterThanOrEqual(wrongSteps.length);
    expect(statuses.get(429) ?? 0).toBe(0);
  });
});

/** Runs one step and records what happened, judged by whether its credentials were right. */
async function runStep(step: Step): Promise<void> {
  try {
    await step.run();
    step.outcome = step.creds === "right" ? "ok" : "succeeded!";
  } catch (error) {
    const stderr = error instanceof ClientFailed ? error.stderr : "";
    // The client's last line says why; digests in the lines before it are noise in the table.
    const lines = (stderr || (error as Error).message).split("\n").filter((l) => l.trim() !== "");
    const message = (lines[lines.length - 1] ?? "").replace(/^time="[^"]*" level=\w+ msg=/, "");
    if (THROTTLED.test(stderr)) step.outcome = "throttled";
    else if (step.creds === "wrong" && AUTH_ERROR.test(stderr)) step.outcome = "failed";
    else step.outcome = step.creds === "right" ? "lost" : "error";
    step.detail = message.slice(0, 160);
  }
}
