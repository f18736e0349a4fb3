/**
 * Test support for tests that drive a system program (promtool, prometheus, dnsmasq): finds it
 * on `PATH` (and in `/usr/sbin`, where Debian puts daemons), so a test can report itself ignored
 * with the reason when the package is not installed, as `.ci/run` installs it.
 *
 * @module
 */

/**
 * The path of executable `name` on `PATH` or in `/usr/sbin` and `/sbin`, or `undefined` (also
 * when the test lacks the permission to look).
 */
export function findBinary(name: string): string | undefined {
  let dirs: string[];
  try {
    dirs = (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
  } catch {
    return undefined;
  }
  for (const dir of [...dirs, "/usr/sbin", "/sbin"]) {
    const path = `${dir}/${name}`;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** The ignore flag and name suffix of a test that needs `binary` from Debian's `pkg`. */
export function needsBinary(binary: string, pkg: string): { path?: string; skip: string } {
  const path = findBinary(binary);
  return path === undefined
    ? { skip: ` (skipped: ${binary} not installed; apt: ${pkg})` }
    : { path, skip: "" };
}
