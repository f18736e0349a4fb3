/**
 * `deno task compile`: builds single-file executables of the node for every supported platform
 * into `dist/`, with the same narrow permissions as `deno task run` baked in (network, the
 * config's env vars, the host name; no file or subprocess access).
 *
 * Usage: `deno task compile [target...]` (default: all targets). `deno compile` needs Deno's
 * runtime (`denort`) for each target: it downloads it, or uses `DENORT_BIN` for the host target.
 *
 * @module
 */

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

/** Compiles `main.ts` for `target` into `outDir`; resolves to the output path or throws. */
export async function compileTarget(target: string, outDir: string): Promise<string> {
  const name = `cachenode-${target}${target.includes("windows") ? ".exe" : ""}`;
  const output = `${outDir}/${name}`;
  const args = [
    "compile",
    "--unstable-net",
    ...(await runPermissionFlags()),
    "--no-check",
    "--target",
    target,
    "--output",
    output,
    "main.ts",
  ];
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    // deno prints "error: ...", numbered "Caused by" lines, then a backtrace: keep the error's
    // first line and its innermost cause, with URLs elided.
    const lines = new TextDecoder().decode(result.stderr)
      .split("Stack backtrace:")[0]
      .split("\n")
      .map((l) => l.trim().replace(/https?:\/\/\S+/g, "<url>"));
    const first = lines.find((l) => l.startsWith("error:")) ?? "error";
    const causes = lines.filter((l) => /^\d+: /.test(l)).map((l) => l.replace(/^\d+: /, ""));
    const err = [first.replace(/ to temporary file .*/, ""), causes.at(-1)].filter(Boolean)
      .join(": ");
    throw new Error(`Cannot compile for ${target}: ${err}`);
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
