/**
 * @module The ink view of `mcr audit tail -f`: the header and past rows
 * first, new rows appended as batches arrive, and a
 * status line counting them.
 */
import { expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { render } from "ink";
import type { AuditRecord } from "../../../lib/audit/audit-events.ts";
import { AuditTail } from "../../../cli/views/audit-tail.tsx";

/** A terminal-shaped stdout that keeps everything written to it. */
class FakeTerminal extends EventEmitter {
  columns = 200;
  rows = 50;
  isTTY = true;
  written = "";
  write(data: string): boolean {
    this.written += data;
    return true;
  }
}

const strip = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

function event(id: number, tag: string, outcome = "success"): AuditRecord {
  return { id, time: `2026-11-01T10:00:0${id % 10}.000Z`, event: "manifest.pushed", actor: "user:alice", source: "10.0.0.1", repository: "team/app", digest: null, tag, outcome, detail: null };
}

/** Batches pushed by the test, as the follow generator would yield them. */
function channel() {
  const queue: AuditRecord[][] = [];
  let wake: (() => void) | null = null;
  let done = false;
  return {
    push(batch: AuditRecord[]) {
      queue.push(batch);
      wake?.();
    },
    end() {
      done = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (done) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  // Generous: on a loaded machine ink may take seconds to flush a frame.
  const deadline = Date.now() + 20_000;
  while (!check() && Date.now() < deadline) await Bun.sleep(10);
}

test("prints past rows, appends new ones, and counts them", async () => {
  const stdout = new FakeTerminal();
  const updates = channel();
  const app = render(<AuditTail initial={[event(1, "old")]} updates={updates} label="/data" />, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    patchConsole: false,
    exitOnCtrlC: false,
  });
  const text = () => strip(stdout.written);
  // Rows are <Static> output, written as they come; the status line is redrawn live on a
  // terminal, but ink writes it only when it unmounts when CI is set (is-in-ci), so it is
  // checked live when it can be and at the end in any case.
  const live = !process.env.CI || ["0", "false"].includes(process.env.CI);
  await until(() => text().includes(" old"));
  expect(text()).toMatch(/TIME\s+EVENT\s+OUTCOME\s+ACTOR/);
  expect(text()).toMatch(/2026-11-01 10:00:01\s+manifest\.pushed\s+success\s+user:alice\s+10\.0\.0\.1\s+team\/app\s+old/);
  if (live) {
    await until(() => text().includes("1 event "));
    expect(text()).toContain("following /data · 1 event · Ctrl-C to stop");
  }

  updates.push([event(2, "new-a"), event(3, "new-b", "failure")]);
  await until(() => text().includes("new-b"));
  expect(text()).toContain("new-a");
  // Each row is printed once, however many times the status line is redrawn.
  expect(text().split("new-a").length - 1).toBe(1);
  if (live) await until(() => text().includes("3 events"));

  updates.push([event(4, "later")]);
  await until(() => text().includes("later"));
  expect(text().indexOf("later")).toBeGreaterThan(text().indexOf("new-b"));
  if (live) await until(() => text().includes("4 events"));
  app.unmount();
  updates.end();
  expect(text()).toContain("following /data · 4 events · Ctrl-C to stop");
  expect(text().split("new-a").length - 1).toBe(1);
});

test("a long follow prints every row exactly once across <Static> generations", async () => {
  const stdout = new FakeTerminal();
  const updates = channel();
  const app = render(<AuditTail initial={[]} updates={updates} label="/data" />, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    patchConsole: false,
    exitOnCtrlC: false,
  });
  for (let b = 0; b < 25; b++) {
    updates.push(Array.from({ length: 100 }, (_, i) => event(b * 100 + i + 1, `t${b * 100 + i + 1}.`)));
    await Bun.sleep(b % 5 === 0 ? 30 : 0);
  }
  const text = () => strip(stdout.written);
  await until(() => text().includes(" t2500.\n"));
  app.unmount();
  updates.end();
  const tags = [...text().matchAll(/ t(\d+)\.\n/g)].map((m) => Number(m[1]));
  expect(tags).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  expect(text()).toContain("2500 events");
});
