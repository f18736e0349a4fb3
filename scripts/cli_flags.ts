/**
 * Command-line flags of every script, on `node:util`'s `parseArgs` (built into Deno): a script
 * names its flags by a defaults object, and `--some-name N` (or `--some-name=N`) sets the field
 * `someName`, keeping its type (number, string, or a boolean switch given alone). This module
 * adds only what `parseArgs` leaves to its caller: numbers checked, the usage text built from the
 * defaults, and `--help` / a bad flag handled the same way in every script.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** The value of one flag; its default's type decides how the flag is read. */
export type FlagValue = number | string | boolean;

/** Flags and the arguments that are not flags. */
export interface CommandLine<T> {
  /** A copy of the defaults with the flags given applied. */
  flags: T;
  /** Arguments that are not flags, in order (empty unless the script allows them). */
  positionals: string[];
  /** Whether `--help` (or `-h`) was given. */
  help: boolean;
}

/** Options of {@link parseCommandLine}. */
export interface CommandLineOptions {
  /** Accept arguments that are not flags (and everything after `--`). @default false */
  positionals?: boolean;
}

/** The flag of a field, without its dashes: `convergeSeconds` → `converge-seconds`. */
export function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The flags of `defaults`, as `--seconds N, --json`. */
function flagList(defaults: Record<string, FlagValue>): string {
  return Object.entries(defaults).map(([f, v]) =>
    typeof v === "boolean"
      ? `--${kebab(f)}`
      : `--${kebab(f)} ${typeof v === "number" ? "N" : "TEXT"}`
  ).join(", ");
}

/**
 * Parses `args` against `defaults`. Numbers must be finite and not negative. Throws a
 * `TypeError` naming the bad argument and the flags allowed.
 */
export function parseCommandLine<T extends Record<string, FlagValue>>(
  args: readonly string[],
  defaults: T,
  options: CommandLineOptions = {},
): CommandLine<T> {
  const bad = (why: string) =>
    new TypeError(`Invalid argument: ${why}: expected ${flagList(defaults)}`);
  const byFlag = new Map(Object.keys(defaults).map((field) => [kebab(field), field]));
  const parsed = (() => {
    try {
      return parseArgs({
        args: [...args],
        options: {
          ...Object.fromEntries(
            [...byFlag].map(([flag, field]) => [
              flag,
              { type: typeof defaults[field] === "boolean" ? "boolean" : "string" } as const,
            ]),
          ),
          help: { type: "boolean", short: "h" },
        },
        strict: true,
        allowPositionals: options.positionals ?? false,
      });
    } catch (err) {
      throw bad((err as Error).message.split("\n").join(" "));
    }
  })();
  const flags: Record<string, FlagValue> = { ...defaults };
  for (const [flag, value] of Object.entries(parsed.values)) {
    const field = byFlag.get(flag);
    if (field === undefined || value === undefined) continue;
    if (typeof defaults[field] !== "number") {
      flags[field] = value as string | boolean;
      continue;
    }
    const number = Number(value);
    if (String(value).trim() === "" || !Number.isFinite(number) || number < 0) {
      throw bad(`--${flag} ${JSON.stringify(value)} is not a number of 0 or more`);
    }
    flags[field] = number;
  }
  return { flags: flags as T, positionals: parsed.positionals, help: parsed.values.help === true };
}

/** {@link parseCommandLine} without positionals, returning only the flags. */
export function parseFlags<T extends Record<string, FlagValue>>(
  args: readonly string[],
  defaults: T,
): T {
  return parseCommandLine(args, defaults).flags;
}

/** What a script tells {@link commandLineOrExit} about itself, for its usage text. */
export interface ScriptUsage {
  /** How it is run, e.g. `deno task chaos`. */
  command: string;
  /** What follows the flags, e.g. `[section...]`. @default "" */
  rest?: string;
}

/** The usage text of a script: its command, then each flag with its default. */
export function usageText(usage: ScriptUsage, defaults: Record<string, FlagValue>): string {
  const rows = Object.entries(defaults).map(([field, value]) => [
    `--${kebab(field)}${
      typeof value === "boolean" ? "" : typeof value === "number" ? " N" : " TEXT"
    }`,
    typeof value === "boolean"
      ? ""
      : `default ${typeof value === "string" ? JSON.stringify(value) : value}`,
  ]);
  rows.push(["--help, -h", "print this and exit"]);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const lines = [`Usage: ${usage.command} [flags]${usage.rest ? ` ${usage.rest}` : ""}`];
  for (const [flag, note] of rows) lines.push(`  ${flag.padEnd(width)}  ${note}`.trimEnd());
  return lines.join("\n");
}

/**
 * {@link parseCommandLine} on `Deno.args` for a script's entry point: on `--help` prints the
 * usage and exits 0; on a bad argument prints why and the usage and exits with status 2.
 */
export function commandLineOrExit<T extends Record<string, FlagValue>>(
  usage: ScriptUsage,
  defaults: T,
  options: CommandLineOptions = {},
): CommandLine<T> {
  let line: CommandLine<T>;
  try {
    line = parseCommandLine(Deno.args, defaults, options);
  } catch (err) {
    console.error(`${(err as Error).message}\n${usageText(usage, defaults)}`);
    Deno.exit(2);
  }
  if (line.help) {
    console.log(usageText(usage, defaults));
    Deno.exit(0);
  }
  return line;
}

/** {@link commandLineOrExit} for a script that takes flags only; returns the flags. */
export function flagsOrExit<T extends Record<string, FlagValue>>(
  usage: ScriptUsage,
  defaults: T,
): T {
  return commandLineOrExit(usage, defaults).flags;
}
