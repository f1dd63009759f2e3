/**
 * @module What the bench reads about processes from /proc: peak resident
 * memory (VmHWM) and CPU time, so it can report the servers' memory and
 * prove the load generator is not the bottleneck.
 */
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100;

/** VmHWM or VmRSS of a process in bytes; 0 when the process is gone. */
export function memoryBytes(pid: number, field: "VmHWM" | "VmRSS" = "VmHWM"): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return match?.[1] ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** User + system CPU seconds a process (all its threads) has used so far; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** This process's own CPU seconds so far. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** Measures CPU use of some processes over a window, as a share of one core. */
export class CpuMeter {
  private readonly started = performance.now();
  private readonly before: number[];

  constructor(private readonly pids: readonly number[]) {
    this.before = pids.map(cpuSeconds);
  }

  /** CPU used since construction by each pid, in percent of one core. */
  stop(): number[] {
    const seconds = (performance.now() - this.started) / 1000;
    return this.pids.map((pid, i) => (100 * (cpuSeconds(pid) - this.before[i]!)) / seconds);
  }
}
