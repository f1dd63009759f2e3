/**
 * @module Configuration on the command line: the `--config` option every
 * command takes, the `mcr serve` flags declared in lib/config/settings.ts,
 * and loading the effective configuration from them.
 */
import type { Command } from "commander";
import { loadConfig, type LoadedConfig } from "../lib/config/load.ts";
import { settings, type SettingKey } from "../lib/config/settings.ts";

/** The `--config` option. */
export const configOption = ["--config <file>", "configuration file (TOML; env MCR_CONFIG)"] as const;

/** Options a command may have parsed: `--config` and any setting flags, camelCased by commander. */
export type ConfigFlags = { config?: string } & Record<string, unknown>;

const FLAGGED = (Object.keys(settings) as SettingKey[]).filter((key) => "flag" in settings[key]);

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Adds `--config` and a flag for every setting that has one (`--listen`, `--data`, `--tls-cert`, …). */
export function addSettingFlags(command: Command): Command {
  command.option(...configOption);
  for (const key of FLAGGED) {
    const s = settings[key];
    const flag = (s as { flag: string }).flag;
    const def = s.defaultValue === "" ? "" : `, default ${String(s.defaultValue)}`;
    command.option(`--${flag} <value>`, `${s.help} (${key}; env ${s.env}${def})`);
  }
  return command;
}

/** The effective configuration for a command's parsed options. */
export function loadFromFlags(opts: ConfigFlags): LoadedConfig {
  const flags: Partial<Record<SettingKey, string>> = {};
  for (const key of FLAGGED) {
    const value = opts[camel((settings[key] as { flag: string }).flag)];
    if (typeof value === "string") flags[key] = value;
  }
  return loadConfig({ file: opts.config ?? null, flags });
}
