/**
 * `deno task compile`: builds single-file executables of the node for every supported platform
 * into `dist/`, with the same narrow permissions as `deno task run` baked in (network, the
 * config's env vars, the host name; no file or subprocess access).
 *
 * Usage: `deno task compile [target...]` (default: all targets). `deno compile` needs Deno's
 * runtime (`denort`) for each target: it downloads it, or uses `DENORT_BIN` for the host target.
 * A failure prints what `deno compile` said and leaves no partial file in `dist/`.
 *
 * @module
 */

import { stripVTControlCharacters } from "node:util";

/** The platforms the release covers. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

const root = new URL("../", import.meta.url);

/** The permission flags of the `run` task (read from deno.json, so the two cannot drift). */
export async function runPermissionFlags(): Promise<string[]> {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  return (denoJson.tasks.run as string).split(/\s+/).filter((w) => w.startsWith("--allow-"));
}

/** Options of {@link compileTarget}. */
export interface CompileOptions {
  /** The Deno CLI that compiles. @default Deno.execPath() */
  deno?: string;
  /** Extra environment for it (e.g. `DENORT_BIN`), on top of this process's. @default none */
  env?: Record<string, string>;
}

/** The file name of the executable for `target`. */
export function outputName(target: string): string {
  return `cachenode-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/**
 * What `deno compile` said on failure, for the user: its lines up to the backtrace, without
 * colours and progress lines (`Check`, `Compile`, `Download`), URLs kept (they say what could not
 * be downloaded).
 */
export function compileError(stderr: string): string {
  const lines = stripVTControlCharacters(stderr)
    .split("Stack backtrace:")[0]
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "" && !/^(Check|Compile|Download) /.test(l));
  return lines.length > 0 ? lines.join("\n") : "no error output";
}

/** Removes the partial outputs a failed or crashed `deno compile` leaves (`<name>.tmp-*`). */
export async function removePartialOutputs(outDir: string, name: string): Promise<string[]> {
  const removed: string[] = [];
  for await (const entry of Deno.readDir(outDir)) {
    if (entry.isFile && entry.name.startsWith(`${name}.tmp-`)) {
      await Deno.remove(`${outDir}/${entry.name}`);
      removed.push(entry.name);
    }
  }
  return removed;
}

/**
 * Compiles `main.ts` for `target` into `outDir`; resolves to the output path, or throws with
 * everything `deno compile` said (see {@link compileError}) after removing partial outputs.
 */
export async function compileTarget(
  target: string,
  outDir: string,
  options: CompileOptions = {},
): Promise<string> {
  const name = outputName(target);
  const output = `${outDir}/${name}`;
  const args = [
    "compile",
    "--unstable-net",
    ...(await runPermissionFlags()),
    "--no-check",
    // The lockfile also lists test-only packages: embed only what main.ts imports.
    "--exclude-unused-npm",
    "--target",
    target,
    "--output",
    output,
    "main.ts",
  ];
  const result = await new Deno.Command(options.deno ?? Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    await removePartialOutputs(outDir, name);
    const how = result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`;
    const hint = /dl\.deno\.land|denort/i.test(new TextDecoder().decode(result.stderr)) &&
        !Deno.env.get("DENORT_BIN") && !options.env?.DENORT_BIN
      ? "\n(the Deno runtime for the target could not be fetched: set DENORT_BIN to a denort binary)"
      : "";
    throw new Error(
      `Cannot compile for ${target} (deno compile: ${how}):\n` +
        compileError(new TextDecoder().decode(result.stderr)) + hint,
    );
  }
  return output;
}

if (import.meta.main) {
  const targets = Deno.args.length > 0 ? Deno.args : [...TARGETS];
  const outDir = new URL("dist", root).pathname;
  await Deno.mkdir(outDir, { recursive: true });
  let failed = 0;
  for (const target of targets) {
    try {
      console.log(`built ${await compileTarget(target, outDir)}`);
    } catch (err) {
      failed++;
      console.error((err as Error).message);
    }
  }
  Deno.exit(failed === 0 ? 0 : 1);
}
