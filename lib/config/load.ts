/**
 * @module Loads the effective configuration: defaults, then the TOML file
 * (`--config` or MCR_CONFIG), then environment variables, then flags.
 * Unknown keys and invalid values are collected and reported together,
 * each naming its key and where it came from.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fail } from "../errors.ts";
import { parseUpstreams, type UpstreamConfig } from "../mirror/upstream-config.ts";
import { assemble, sections, settings, type Config, type SettingKey, type SettingValue } from "./settings.ts";

/** Where an effective value came from. */
export type Source = "default" | "file" | "env" | "flag";

/** The configuration and, per setting, where its value came from. */
export interface LoadedConfig {
  config: Config;
  sources: Record<SettingKey, Source>;
  /** The file read, or null. */
  file: string | null;
}

/** What to load from. */
export interface ConfigInputs {
  /** A file named on the command line; otherwise `env.MCR_CONFIG`; otherwise none. */
  file?: string | null;
  env?: Record<string, string | undefined>;
  /** Flag values by setting key (strings, as typed). */
  flags?: Partial<Record<SettingKey, string>>;
  /** Against what relative paths of the environment and flags resolve (the working directory). */
  cwd?: string;
}

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  key: string;
  source: string;
  message: string;
}

const KEYS = Object.keys(settings) as SettingKey[];

/** Loads and validates; throws INVALID_ARGUMENT listing every problem. */
export function loadConfig(inputs: ConfigInputs = {}): LoadedConfig {
  const env = inputs.env ?? process.env;
  const cwd = inputs.cwd ?? process.cwd();
  const named = inputs.file ?? (env.MCR_CONFIG || null);
  const file = named === null ? null : resolve(cwd, named);
  const problems: ConfigProblem[] = [];
  const raw = new Map<SettingKey, { value: unknown; source: Source; label: string; baseDir: string }>();
  let upstreams: UpstreamConfig[] = [];

  if (file !== null) {
    const text = readConfigFile(file);
    let table: Record<string, unknown>;
    try {
      table = Bun.TOML.parse(text) as Record<string, unknown>;
    } catch (error) {
      fail("INVALID_ARGUMENT", `invalid configuration file ${file}: ${(error as Error).message}`, { file });
    }
    // `[[upstream]]` is an array of tables, not a setting of the table: validated on its own.
    const parsed = parseUpstreams(table.upstream, dirname(file), env);
    delete table.upstream;
    upstreams = parsed.upstreams;
    for (const p of parsed.problems) problems.push({ ...p, source: file });
    for (const [key, value] of flatten(table, "", problems, file)) raw.set(key, { value, source: "file", label: file, baseDir: dirname(file) });
  }
  for (const key of KEYS) {
    const name = settings[key].env;
    const value = env[name];
    if (value !== undefined) raw.set(key, { value, source: "env", label: name, baseDir: cwd });
  }
  for (const [key, value] of Object.entries(inputs.flags ?? {}) as [SettingKey, string | undefined][]) {
    if (value !== undefined) raw.set(key, { value, source: "flag", label: `--${settings[key].flag ?? key}`, baseDir: cwd });
  }

  const values = new Map<SettingKey, unknown>();
  const sources = {} as Record<SettingKey, Source>;
  for (const key of KEYS) {
    const setting = settings[key];
    const given = raw.get(key) ?? { value: setting.defaultValue, source: "default" as const, label: "default", baseDir: cwd };
    sources[key] = given.source;
    try {
      values.set(key, (setting.type.parse as (raw: unknown, ctx: { baseDir: string }) => unknown)(given.value, { baseDir: given.baseDir }));
    } catch (error) {
      problems.push({ key, source: given.label, message: (error as Error).message });
    }
  }
  const tls = [values.get("server.tls.cert"), values.get("server.tls.key")];
  if ((tls[0] === null) !== (tls[1] === null) && problems.length === 0) {
    const missing = tls[0] === null ? "server.tls.cert" : "server.tls.key";
    problems.push({ key: missing, source: "-", message: "server.tls.cert and server.tls.key must be set together" });
  }
  if (problems.length > 0) {
    const where = file === null ? "" : ` (${file})`;
    const lines = problems.map((p) => `  ${p.key}: ${p.message} [from ${p.source}]`);
    fail("INVALID_ARGUMENT", `invalid configuration${where}:\n${lines.join("\n")}`, { problems });
  }
  const get = <K extends SettingKey>(key: K) => values.get(key) as SettingValue<K>;
  return { config: assemble(get, upstreams), sources, file };
}

function readConfigFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    fail("INVALID_ARGUMENT", `cannot read configuration file ${file}: ${code === "ENOENT" ? "no such file" : code ?? String(error)}`, { file });
  }
}

/** The leaves of a parsed TOML document that are settings; anything else is a problem. */
function flatten(table: Record<string, unknown>, prefix: string, problems: ConfigProblem[], file: string): [SettingKey, unknown][] {
  const found: [SettingKey, unknown][] = [];
  for (const [name, value] of Object.entries(table)) {
    const key = prefix + name;
    if ((KEYS as string[]).includes(key)) {
      found.push([key as SettingKey, value]);
    } else if (isTable(value) && KEYS.some((k) => k.startsWith(`${key}.`))) {
      found.push(...flatten(value, `${key}.`, problems, file));
    } else {
      const known = prefix === "" ? sections.includes(name) : false;
      const message = known ? "must be a table, e.g. [" + name + "]" : `unknown ${prefix === "" && isTable(value) ? "section" : "key"}${suggest(key)}`;
      problems.push({ key, source: file, message });
    }
  }
  return found;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** ", did you mean …?" for a near miss, else nothing. */
function suggest(key: string): string {
  const candidates = [...KEYS, ...sections];
  let best: string | null = null;
  let bestDistance = Math.min(4, Math.ceil(key.length / 3));
  for (const candidate of candidates) {
    const d = distance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best === null ? "" : ` (did you mean ${best}?)`;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
