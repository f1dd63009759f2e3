/**
 * @module The live view of `mcr audit tail -f` on a terminal: past rows are
 * printed once (ink's <Static>) and scroll like a log, while a status line
 * under them shows what is followed and how many events came in.
 */
import { Box, render, Static, Text } from "ink";
import { useEffect, useState } from "react";
import type { AuditRecord } from "../../lib/audit/audit-events.ts";
import { safe } from "../output.ts";
import { AUDIT_HEADER, auditCells, fixedLine, isBad } from "./audit-lines.ts";

/** One printed line. */
interface Line {
  key: string;
  text: string;
  tone: "header" | "ok" | "bad";
}

/** Items a <Static> keeps before it is replaced by a fresh one, so a long follow does not grow React state. */
const STATIC_BATCH = 1000;

function lineOf(e: AuditRecord): Line {
  return { key: `e${e.id}`, text: fixedLine(auditCells(e)), tone: isBad(e) ? "bad" : "ok" };
}

/** Props of the view: the rows already known, the batches still to come, and what is followed. */
export interface AuditTailProps {
  initial: readonly AuditRecord[];
  updates: AsyncIterable<AuditRecord[]>;
  label: string;
}

/** The view: static rows and a status line. */
export function AuditTail({ initial, updates, label }: AuditTailProps) {
  const [lines, setLines] = useState(() => ({
    generation: 0,
    items: [{ key: "header", text: fixedLine(AUDIT_HEADER), tone: "header" as const }, ...initial.map(lineOf)],
  }));
  const [count, setCount] = useState(initial.length);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    void (async () => {
      try {
        for await (const batch of updates) {
          if (!live) return;
          const added = batch.map(lineOf);
          // A new <Static> (new key) prints only its own items, so old ones can be dropped.
          setLines((s) =>
            s.items.length >= STATIC_BATCH ? { generation: s.generation + 1, items: added } : { generation: s.generation, items: [...s.items, ...added] },
          );
          setCount((n) => n + batch.length);
        }
      } catch (error) {
        if (live) setFailure(safe(error instanceof Error ? error.message : String(error)));
      }
    })();
    return () => {
      live = false;
    };
  }, [updates]);

  return (
    <>
      <Static key={lines.generation} items={lines.items}>
        {(line) => (
          <Text key={line.key} bold={line.tone === "header"} color={line.tone === "bad" ? "red" : undefined}>
            {line.text}
          </Text>
        )}
      </Static>
      <Box>
        {failure === null ? (
          <Text dimColor>
            following {label} · {count} event{count === 1 ? "" : "s"} · Ctrl-C to stop
          </Text>
        ) : (
          <Text color="red">stopped following: {failure}</Text>
        )}
      </Box>
    </>
  );
}

/** Renders the view until Ctrl-C (or `stop` aborts, e.g. on SIGTERM); then aborts `stop` so the follow ends too. */
export async function runAuditTailView(props: AuditTailProps, stop: AbortController): Promise<void> {
  const app = render(<AuditTail {...props} />, { exitOnCtrlC: true, patchConsole: false });
  const unmount = () => app.unmount();
  stop.signal.addEventListener("abort", unmount, { once: true });
  try {
    await app.waitUntilExit();
  } finally {
    stop.signal.removeEventListener("abort", unmount);
    stop.abort();
  }
}
