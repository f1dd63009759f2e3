/**
 * @module The $EDITOR round trip for rule files, like visudo: the text is
 * written to a private temporary file and the editor opened on it; an
 * invalid save re-opens with the problems on top; saving the same invalid
 * text again gives up.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RegistryError } from "../lib/errors.ts";

/** Edits `text` until `parse` accepts it; returns what it parsed. `name` names the temporary file. */
export async function editDocument<T>(name: string, text: string, parse: (text: string) => T): Promise<T> {
  const file = join(tmpdir(), `mcr-${name}-${process.pid}.toml`);
  let current = text;
  let lastInvalid: string | null = null;
  try {
    for (;;) {
      writeFileSync(file, current, { mode: 0o600 });
      const editor = process.env.VISUAL || process.env.EDITOR || "vi";
      const proc = Bun.spawnSync(["sh", "-c", `${editor} "$1"`, "editor", file], { stdio: ["inherit", "inherit", "inherit"] });
      if (proc.exitCode !== 0) throw new Error(`${editor} exited with ${proc.exitCode}; nothing changed`);
      const edited = readFileSync(file, "utf8").replace(/^(# ERROR: .*\n)+/, "");
      try {
        return parse(edited);
      } catch (error) {
        if (!(error instanceof RegistryError)) throw error;
        if (edited === lastInvalid) throw new Error(`${name} not changed:\n${error.message}`);
        lastInvalid = edited;
        current = `${error.message.split("\n").map((l) => `# ERROR: ${l}`).join("\n")}\n${edited}`;
      }
    }
  } finally {
    rmSync(file, { force: true });
  }
}
