/**
 * @module The server's log: leveled events written as text lines or as one
 * JSON object per line. The sink is given by the caller (the CLI passes
 * stdout), so nothing here decides where logs go.
 */
import { logLevels, type LogFormat, type LogLevel } from "../../lib/config/settings.ts";

/** Structured context of an event. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Where the server reports what happens. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether events of `level` are written. */
  enabled(level: LogLevel): boolean;
  /** The line format, for callers that shape an event differently per format. */
  readonly format: LogFormat;
}

/** How to log. */
export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Receives each line, without its newline. */
  write: (line: string) => void;
  /** The clock, replaceable in tests. */
  now?: () => number;
  /** Fields on every line (e.g. `worker`, when several processes write to one log). */
  fields?: LogFields;
}

/**
 * Text lines are the message followed by `key=value` fields (values with
 * spaces quoted); JSON lines are `{"time","level","msg",...fields}`.
 */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = logLevels.indexOf(options.level ?? "info");
  const format = options.format ?? "text";
  const now = options.now ?? Date.now;
  const enabled = (level: LogLevel) => logLevels.indexOf(level) >= threshold;
  const emit = (level: LogLevel) => (msg: string, fields: LogFields = {}) => {
    if (!enabled(level)) return;
    const defined = Object.entries(options.fields ? { ...options.fields, ...fields } : fields).filter(([, v]) => v !== undefined);
    if (format === "json") {
      options.write(JSON.stringify({ time: new Date(now()).toISOString(), level, msg, ...Object.fromEntries(defined) }));
      return;
    }
    const prefix = level === "info" ? "" : `${level}: `;
    const rest = defined.map(([k, v]) => ` ${k}=${typeof v === "string" && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`).join("");
    options.write(`${prefix}${msg}${rest}`);
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error"), enabled, format };
}

/** A logger that writes nothing. */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });
