/**
 * Command-line flags of the chaos and soak scripts: `--some-name N` (or `--some-name=N`) sets
 * the field `someName` of a defaults object, keeping its type (number, string, or a boolean
 * switch given alone).
 *
 * @module
 */

type FlagValue = number | string | boolean;

const kebab = (field: string) => `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Parses `args` into a copy of `defaults`. Numbers must be finite and not negative. Throws a
 * `TypeError` naming the bad argument and the flags allowed.
 */
export function parseFlags<T extends Record<string, FlagValue>>(
  args: readonly string[],
  defaults: T,
): T {
  const out: Record<string, FlagValue> = { ...defaults };
  const byFlag = new Map(Object.keys(defaults).map((field) => [kebab(field), field]));
  const usage = () =>
    Object.entries(defaults).map(([f, v]) =>
      typeof v === "boolean" ? kebab(f) : `${kebab(f)} ${typeof v === "number" ? "N" : "TEXT"}`
    ).join(", ");
  for (let i = 0; i < args.length; i++) {
    const at = i;
    const arg = args[at];
    const [flag, inline] = arg.split("=", 2);
    const field = byFlag.get(flag);
    const bad = () => {
      const given = inline === undefined && i > at ? `${arg} ${args[i] ?? ""}` : arg;
      return new TypeError(`Invalid argument ${JSON.stringify(given.trim())}: expected ${usage()}`);
    };
    if (field === undefined) throw bad();
    const kind = typeof defaults[field];
    if (kind === "boolean") {
      if (inline !== undefined) throw bad();
      out[field] = true;
      continue;
    }
    const text = inline ?? args[++i];
    if (text === undefined) throw bad();
    if (kind === "string") {
      out[field] = text;
      continue;
    }
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || value < 0) throw bad();
    out[field] = value;
  }
  return out as T;
}

/** {@link parseFlags} on `Deno.args`; on a bad argument prints why and exits with status 2. */
export function flagsOrExit<T extends Record<string, FlagValue>>(defaults: T): T {
  try {
    return parseFlags(Deno.args, defaults);
  } catch (err) {
    console.error((err as Error).message);
    Deno.exit(2);
  }
}
