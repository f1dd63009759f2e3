/**
 * @module HOOK(gc): a concurrent `mcr gc` loop for the crash test.
 *
 * `mcr gc` is being built on its own branch. Until it is merged this loop
 * does nothing and says so; once `cli/commands/gc.ts` exists it runs
 * `mcr gc --data DIR --grace 30s` back to back while the clients push, and
 * SIGKILLs the GC process whenever the server is killed, so crashes land
 * in GC runs too. With GC on, the verifier lets an acknowledged blob that
 * no manifest references disappear once it is older than the grace
 * period (DESIGN.md invariant 3); anything referenced must survive.
 * If the merged command's flags differ, adjust `GC_ARGS` here.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const GC_COMMAND = join(ROOT, "cli", "commands", "gc.ts");
const GC_ARGS = ["gc", "--grace", "30s"];
/** The grace passed above, for the verifier. */
export const GC_GRACE_MS = 30_000;

/** A GC loop that can be paused (its process killed) and resumed. */
export interface GcLoop {
  /** Whether `mcr gc` exists in this tree. */
  readonly active: boolean;
  /** Completed runs, and runs cut off by a kill. */
  readonly runs: { completed: number; killed: number };
  /** Starts running GC back to back. */
  resume(): void;
  /** Kills a run in progress (SIGKILL) and stops the loop until `resume`. */
  pause(): Promise<void>;
}

/** The GC loop over `dataDir`; failures (a GC exiting non-zero on its own) go to `problems`. */
export function gcLoop(dataDir: string, problems: string[]): GcLoop {
  const active = existsSync(GC_COMMAND);
  const runs = { completed: 0, killed: 0 };
  let running = false;
  let current: Bun.Subprocess<"ignore", "pipe", "pipe"> | null = null;
  let loop: Promise<void> = Promise.resolve();

  const cycle = async () => {
    while (running) {
      const proc = Bun.spawn([process.execPath, join(ROOT, "cli", "main.ts"), ...GC_ARGS, "--data", dataDir], {
        cwd: ROOT,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      current = proc;
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      current = null;
      if (proc.signalCode === "SIGKILL") runs.killed++;
      else if (code === 0) runs.completed++;
      else problems.push(`mcr gc exited ${code}: ${stderr.slice(0, 500)}`);
    }
  };

  return {
    active,
    runs,
    resume() {
      if (!active || running) return;
      running = true;
      loop = cycle();
    },
    async pause() {
      running = false;
      current?.kill("SIGKILL");
      await loop;
    },
  };
}
