/**
 * A tiny structured logger: one line per event, human-readable (`text`) or JSON (`json`), with a
 * level filter. Loggers are values passed to the parts that log, never globals, and the output
 * sink is injectable so tests can capture lines.
 *
 * @module
 */

/** Log verbosity, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** Logs events at four levels; `child` adds fixed fields (e.g. the component). */
export interface Logger {
  /** Whether `level` lines are written (lets hot paths skip building fields). */
  enabled(level: LogLevel): boolean;
  /** Verbose diagnostics: dropped packets, timings. */
  debug(msg: string, fields?: LogFields): void;
  /** Normal events: start, join, leave. */
  info(msg: string, fields?: LogFields): void;
  /** Something is wrong but handled: suspect members, failed pushes. */
  warn(msg: string, fields?: LogFields): void;
  /** Something failed that an operator should look at. */
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Least severe level written. @default "info" */
  level?: LogLevel;
  /** `text` or `json`. @default "text" */
  format?: "text" | "json";
  /** Where lines go. @default console.error (stderr) */
  write?: (line: string) => void;
  /** Time source for the timestamp. @default Date.now */
  now?: () => number;
}

function textValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === "string") return /^[\w.:\/@-]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** Creates a {@link Logger}. */
export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const format = options.format ?? "text";
  const write = options.write ?? ((line: string) => console.error(line));
  const now = options.now ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const all = { ...base, ...fields };
    const time = new Date(now()).toISOString();
    if (format === "json") {
      const plain = Object.fromEntries(
        Object.entries(all).map(([k, v]) => [k, v instanceof Error ? v.message : v]),
      );
      write(JSON.stringify({ time, level, msg, ...plain }));
    } else {
      const kv = Object.entries(all).map(([k, v]) => `${k}=${textValue(v)}`).join(" ");
      write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${kv ? " " + kv : ""}`);
    }
  };
  return {
    enabled: (level) => RANK[level] >= min,
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** A logger that writes nothing (default for embedded use and tests). */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });
