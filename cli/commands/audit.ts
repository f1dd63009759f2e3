/**
 * @module `mcr audit tail`: the last events of the audit log as a table or
 * NDJSON, filtered; with `-f` it keeps following what any process writes
 * (an ink view on a terminal, plain lines or NDJSON flushed per event
 * otherwise).
 */
import type { Command } from "commander";
import { followAuditEvents, startAuditTail, type AuditRecord } from "../../lib/audit/audit-events.ts";
import { parseAuditFilter } from "../../lib/audit/audit-filter.ts";
import { withRegistry } from "../local.ts";
import { printTable, UsageError } from "../output.ts";
import { followRemoteAudit, startRemoteAuditTail } from "../remote/audit-remote.ts";
import { resolveTarget, targetOptions, type TargetOptions } from "../target.ts";
import { AUDIT_HEADER, auditCells, fixedLine } from "../views/audit-lines.ts";

interface TailOptions extends TargetOptions {
  follow?: boolean;
  lines?: string;
  json?: boolean;
  repo?: string;
  actor?: string;
  event?: string;
  since?: string;
}

const DEFAULT_LINES = 20;

export function registerAudit(program: Command): void {
  const audit = program.command("audit").description("read the audit log");

  targetOptions(audit
    .command("tail")
    .description("show the last events (default 20; with --since and no -n, all since then); -f follows new ones")
    .option("-f, --follow", "keep printing new events as they are written (Ctrl-C stops)")
    .option("-n, --lines <n>", `how many past events to show first (default ${DEFAULT_LINES})`)
    .option("--json", "print one JSON object per line (NDJSON)")
    .option("--repo <name>", "only this repository (a trailing * matches a prefix)")
    .option("--actor <actor>", "only this actor: user:NAME, robot:NAME, or a bare NAME for any of them")
    .option("--event <event>", "only this event, e.g. manifest.pushed (a trailing * matches a prefix: manifest.*)")
    .option("--since <when>", "only events since a duration ago (1h, 7d) or a date (2026-11-01)"))
    .action(async (opts: TailOptions) => {
      const lines = parseLines(opts.lines);
      const everySince = lines === undefined && opts.since !== undefined;
      const count = everySince ? undefined : (lines ?? DEFAULT_LINES);
      const target = resolveTarget(opts);
      if (target.kind === "remote") {
        const filter = { repo: opts.repo, actor: opts.actor, event: opts.event, since: opts.since };
        const { events: past, upTo } = await startRemoteAuditTail(target.api, filter, count);
        if (!opts.follow) return show(past, opts);
        return follow((signal) => followRemoteAudit(target.api, filter, upTo, signal), past, target.api.server, opts);
      }
      await withRegistry(target.opts, async (reg) => {
        const filter = parseAuditFilter({ repo: opts.repo, actor: opts.actor, event: opts.event, since: opts.since }, reg.now());
        const { events: past, upTo } = await startAuditTail(reg, filter, count);
        if (!opts.follow) return show(past, opts);
        await follow((signal) => followAuditEvents(reg, filter, upTo, { signal }), past, reg.dataDir, opts);
      });
    });
}

function parseLines(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,6}$/.test(text)) throw new UsageError(`-n must be a number of events, got "${text}"`);
  return Number(text);
}

function printNdjson(events: readonly AuditRecord[]): void {
  for (const e of events) process.stdout.write(`${JSON.stringify(e)}\n`);
}

function show(events: AuditRecord[], opts: TailOptions): void {
  if (opts.json) printNdjson(events);
  else printTable(AUDIT_HEADER, events.map(auditCells));
}

/** Prints `past`, then new events as they come, until Ctrl-C (or the reader of a pipe goes away). */
async function follow(
  start: (signal: AbortSignal) => AsyncIterable<AuditRecord[]>,
  past: AuditRecord[],
  label: string,
  opts: TailOptions,
): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.stdout.once("error", onSignal);
  const updates = start(stop.signal);
  try {
    if (!opts.json && process.stdout.isTTY) {
      const { runAuditTailView } = await import("../views/audit-tail.tsx");
      await runAuditTailView({ initial: past, updates, label }, stop);
      return;
    }
    const print = opts.json ? printNdjson : (events: readonly AuditRecord[]) => events.forEach((e) => process.stdout.write(`${fixedLine(auditCells(e))}\n`));
    if (!opts.json) process.stdout.write(`${fixedLine(AUDIT_HEADER)}\n`);
    print(past);
    for await (const batch of updates) print(batch);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
