/**
 * @module The effective configuration written out for `mcr config print`:
 * as TOML a file could hold (each non-default value noting its source),
 * or as JSON. Secrets are always redacted.
 */
import type { LoadedConfig, Source } from "./load.ts";
import { formatDuration } from "./values.ts";
import type { UpstreamConfig } from "../mirror/upstream-config.ts";
import { settings, type SettingKey } from "./settings.ts";

/** What a secret prints as. */
export const REDACTED = "<redacted>";

type Printed = string | number | boolean | string[];

/** Each setting's printable value (durations as `5m`, secrets redacted), by key. */
export function printableValues(loaded: LoadedConfig): [SettingKey, Printed, Source][] {
  return (Object.keys(settings) as SettingKey[]).map((key) => {
    const setting = settings[key];
    const value = lookup(loaded.config, key);
    let printed = (setting.type.format as (value: unknown) => Printed)(value);
    if ("secret" in setting && setting.secret && value !== null) printed = REDACTED;
    return [key, printed, loaded.sources[key]];
  });
}

/** TOML text of the effective configuration. */
export function renderToml(loaded: LoadedConfig): string {
  const lines: string[] = [`# effective configuration${loaded.file ? ` (file: ${loaded.file})` : ""}`];
  let table = "";
  for (const [key, printed, source] of printableValues(loaded)) {
    const parts = key.split(".");
    const name = parts.pop()!;
    const header = parts.join(".");
    if (header !== table) {
      lines.push("", `[${header}]`);
      table = header;
    }
    const setting = settings[key];
    const from = source === "env" ? setting.env : source === "flag" && "flag" in setting ? `--${setting.flag}` : source;
    const note = source === "default" ? "" : `  # from ${from}`;
    lines.push(`${name} = ${typeof printed === "string" || Array.isArray(printed) ? JSON.stringify(printed) : String(printed)}${note}`);
  }
  for (const upstream of loaded.config.upstreams) {
    lines.push("", "[[upstream]]");
    for (const [key, value] of Object.entries(printableUpstream(upstream))) lines.push(`${key} = ${JSON.stringify(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** An `[[upstream]]` entry as the file would hold it, its password redacted (a CA bundle is shown as present). */
export function printableUpstream(u: UpstreamConfig): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = { name: u.name, url: u.url };
  if (u.username !== null) out.username = u.username;
  if (u.password !== null) out.password = REDACTED;
  out.tag_ttl = formatDuration(u.tagTtlMs);
  out.not_found_ttl = formatDuration(u.notFoundTtlMs);
  out.timeout = formatDuration(u.timeoutMs);
  out.max_concurrent = u.maxConcurrent;
  if (u.tlsCa !== null) out.tls_ca = "<PEM bundle>";
  out.default = u.isDefault;
  return out;
}

/** The effective configuration as nested JSON, with the source of each value beside it. */
export function renderJson(loaded: LoadedConfig): { config: Record<string, unknown>; sources: Record<string, Source>; file: string | null } {
  const config: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  for (const [key, printed, source] of printableValues(loaded)) {
    const parts = key.split(".");
    const name = parts.pop()!;
    let node = config;
    for (const part of parts) node = (node[part] ??= {}) as Record<string, unknown>;
    node[name] = printed;
    sources[key] = source;
  }
  if (loaded.config.upstreams.length > 0) config.upstream = loaded.config.upstreams.map(printableUpstream);
  return { config, sources, file: loaded.file };
}

function lookup(config: object, key: string): unknown {
  let node: unknown = config;
  for (const part of key.split(".")) node = (node as Record<string, unknown>)[part];
  return node;
}
