/**
 * @module The mcr command line as a child process for tests: one-shot commands
 * with their exit code and output, a `serve` whose every output line is kept,
 * and long-running commands (`audit tail -f`) read line by line as they print.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const MAIN = join(ROOT, "cli", "main.ts");
const LISTENING = /^mcr listening on (https?:\/\/\S+) \(data: /m;

/** What one command did. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment commands run with: the test's, without MCR_ADMIN_PASSWORD. */
function cliEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.MCR_ADMIN_PASSWORD;
  return env;
}

/** Runs `mcr ARGS`; `stdin` is piped in when given, otherwise standard input is empty. */
export async function runCli(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: ROOT,
    env: { ...cliEnv(), ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
    timeout: 30_000,
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** Runs `mcr ARGS` and throws with its output unless it exits 0; returns stdout. */
export async function cliOk(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<string> {
  const r = await runCli(args, opts);
  if (r.code !== 0) throw new Error(`mcr ${args.join(" ")} exited ${r.code}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** A `mcr serve` started without MCR_ADMIN_PASSWORD. */
export interface ServeProcess {
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `mcr serve` on a free port of 127.0.0.1 with data in `dataDir` and waits until
 * it is listening; `opts.args` replaces those flags, `opts.env` adds to the environment.
 */
export async function startServe(dataDir: string, opts: { args?: string[]; env?: Record<string, string> } = {}): Promise<ServeProcess> {
  const args = opts.args ?? ["--listen", "127.0.0.1:0", "--data", dataDir];
  const proc = Bun.spawn([process.execPath, MAIN, "serve", ...args], {
    cwd: ROOT,
    env: { ...cliEnv(), ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  const read = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  void read(proc.stdout);
  void read(proc.stderr);
  const deadline = Date.now() + 15_000;
  let url: string | undefined;
  while (!(url = LISTENING.exec(text)?.[1])) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`mcr serve did not start (exit ${proc.exitCode})\n${text}`);
    }
    await Bun.sleep(20);
  }
  return {
    url,
    output: () => text,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await proc.exited;
      clearTimeout(killer);
      // Let the readers take the last lines.
      await Bun.sleep(20);
    },
  };
}

/** A running command whose stdout lines are kept with the time each arrived. */
export interface LiveCommand {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  lines: { text: string; at: number }[];
  /** The first line matching `match`, waiting up to `ms`; throws with what was printed. */
  waitFor(match: (text: string) => boolean, ms: number): Promise<{ text: string; at: number }>;
}

/** Starts `mcr ARGS` and reads its stdout as it comes (`at` is `performance.now()`). */
export function startCli(args: string[]): LiveCommand {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { cwd: ROOT, env: cliEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const lines: { text: string; at: number }[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of proc.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const text of parts) lines.push({ text, at: performance.now() });
    }
  })();
  return {
    proc,
    lines,
    async waitFor(match, ms) {
      const deadline = performance.now() + ms;
      for (;;) {
        const line = lines.find((l) => match(l.text));
        if (line) return line;
        if (performance.now() > deadline) throw new Error(`no matching line within ${ms} ms; got:\n${lines.map((l) => l.text).join("\n")}`);
        await Bun.sleep(5);
      }
    },
  };
}

/**
 * Runs `mcr ARGS` on a pseudo-terminal of 100 × 30 (through script(1)), as
 * a person at a terminal would; returns its exit code and what it showed,
 * escape sequences removed. Null when script(1) is not installed.
 */
export async function runInTerminal(args: string[]): Promise<{ code: number; out: string } | null> {
  if (!Bun.which("script")) return null;
  const proc = Bun.spawn(["script", "-qec", `stty cols 100 rows 30; ${process.execPath} cli/main.ts ${args.join(" ")}`, "/dev/null"], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const out = (await new Response(proc.stdout).text()).replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "");
  return { code: await proc.exited, out };
}

/**
 * An `$EDITOR` for `mcr … edit` tests, in `dir`: its first run does
 * `firstEdit` (a shell command on the file, `"$1"`), which saves a typo;
 * each later run expects the file to come back with `# ERROR:` naming the
 * typo on top, and replaces the typo with `fixed`. `reset()` makes the
 * next run a first run again.
 */
export function typoEditor(dir: string, firstEdit: string, typo: string, fixed: string): { path: string; reset: () => void } {
  const counter = join(dir, "count");
  const path = join(dir, "editor.sh");
  const reset = () => writeFileSync(counter, "0");
  reset();
  writeFileSync(
    path,
    `#!/bin/sh\nn=$(cat ${counter}); echo $((n+1)) > ${counter}\nif [ "$n" = 0 ]; then ${firstEdit}; else grep -q '^# ERROR: .*${typo}' "$1" && sed -i 's/${typo}/${fixed}/' "$1"; fi\n`,
  );
  chmodSync(path, 0o755);
  return { path, reset };
}
