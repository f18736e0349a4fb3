/**
 * Parsers for the human-friendly values the config accepts: byte sizes (`64mb`, `4MiB`, `1024`)
 * and durations (`300ms`, `1.5s`, `2m`, plain milliseconds). Each returns `undefined` for text it
 * cannot read, so the caller can build one error that names the variable and the value.
 *
 * @module
 */

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

const DURATION_UNITS: Record<string, number> = {
  "": 1,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

function parseWithUnits(text: string, units: Record<string, number>): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!match) return undefined;
  const factor = units[match[2].toLowerCase()];
  if (factor === undefined) return undefined;
  const value = Number(match[1]) * factor;
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Parses a byte size: a non-negative number with an optional binary unit (`b`, `kb`/`kib`/`k`,
 * `mb`/`mib`/`m`, `gb`/`gib`/`g`, case-insensitive; all powers of 1024). Fractions are floored
 * to whole bytes.
 */
export function parseBytes(text: string): number | undefined {
  const value = parseWithUnits(text, BYTE_UNITS);
  return value === undefined ? undefined : Math.floor(value);
}

/**
 * Parses a duration into milliseconds: a non-negative number with an optional unit (`ms`, `s`,
 * `m`, `h`); a plain number means milliseconds.
 */
export function parseDuration(text: string): number | undefined {
  return parseWithUnits(text, DURATION_UNITS);
}

/** Formats a byte count for humans (`4 MiB`, `1536 B`). */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} B`;
}
