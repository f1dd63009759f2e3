/**
 * @module `mcr version`: this build's version, commit and Bun version.
 */
import type { Command } from "commander";
import { version } from "../version.ts";

export function registerVersion(program: Command): void {
  program
    .command("version")
    .description("print version information")
    .action(() => {
      console.log(`mcr ${version.version} (commit ${version.commit}, bun ${Bun.version})`);
    });
}
