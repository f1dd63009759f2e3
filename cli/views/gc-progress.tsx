/**
 * @module `mcr gc`'s live view on a terminal (ink): every phase with what it
 * has checked and removed, the current one marked, and the bytes freed.
 */
import { Box, render, Text } from "ink";
import { gcPhases, type GcPhase, type GcProgress } from "../../lib/gc/report.ts";
import { formatBytes, formatElapsed, phaseLabels } from "./gc-format.ts";

/** What the view shows. */
export interface GcViewState {
  header: string;
  /** Phases that do not run (manifests, without --untagged). */
  hidden: readonly GcPhase[];
  phases: Partial<Record<GcPhase, { checked: number; removed: number }>>;
  current: GcPhase | null;
  bytesFreed: number;
  elapsedMs: number;
  done: boolean;
}

/** The view itself. */
export function GcProgressView({ state }: { state: GcViewState }) {
  const currentIndex = state.current === null ? -1 : gcPhases.indexOf(state.current);
  return (
    <Box flexDirection="column">
      <Text bold>mcr gc · {state.header}</Text>
      {gcPhases.map((phase, i) => {
        if (state.hidden.includes(phase)) return null;
        const counts = state.phases[phase];
        const finished = state.done || i < currentIndex;
        const mark = finished ? "✔" : i === currentIndex ? "›" : " ";
        return (
          <Box key={phase}>
            <Text color={finished ? "green" : i === currentIndex ? "cyan" : "gray"}>{`${mark} ${phaseLabels[phase].padEnd(20)}`}</Text>
            {counts ? <Text>{`${String(counts.checked).padStart(8)} checked ${String(counts.removed).padStart(7)} removed`}</Text> : null}
          </Box>
        );
      })}
      <Text dimColor>{`${formatBytes(state.bytesFreed)} freed · ${formatElapsed(state.elapsedMs)}`}</Text>
    </Box>
  );
}

const REDRAW_MS = 100;

/** Renders the view on the terminal and keeps it current; `end` leaves the final frame (all ticked if `finished`). */
export function gcTerminalView(header: string, hidden: readonly GcPhase[]): { progress(p: GcProgress): void; end(finished: boolean): void } {
  const started = Date.now();
  const state: GcViewState = { header, hidden, phases: {}, current: null, bytesFreed: 0, elapsedMs: 0, done: false };
  const app = render(<GcProgressView state={{ ...state }} />, { patchConsole: false, exitOnCtrlC: false });
  const redraw = () => {
    state.elapsedMs = Date.now() - started;
    app.rerender(<GcProgressView state={{ ...state }} />);
  };
  const timer = setInterval(redraw, REDRAW_MS);
  return {
    progress(p) {
      state.current = p.phase;
      state.phases = { ...state.phases, [p.phase]: { checked: p.checked, removed: p.removed } };
      state.bytesFreed = p.bytesFreed;
    },
    end(finished) {
      clearInterval(timer);
      state.done = finished;
      redraw();
      app.unmount();
    },
  };
}
