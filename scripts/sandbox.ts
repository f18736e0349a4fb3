/**
 * The launcher of `deno task run:strict`, `run:edge` and `run:tls`: reads the node's settings from
 * the same env vars and flags as the node (with the project's loader, so a flag grants what its
 * env var does), computes the permissions that config needs (`nodePermissions`: the network of
 * the grant, read access to exactly the TLS files) and starts `main.ts` with exactly those.
 * A `deno task` line cannot do this: its `$VAR`s see env vars only, never flags.
 *
 * Usage: `deno run <its own permissions> scripts/sandbox.ts strict|edge|open [node flags]`, as the
 * tasks do. `--print-command` prints the node's `deno run` command instead of starting it.
 * The node inherits stdin, stdout, stderr and the environment; SIGINT and SIGTERM are passed on;
 * the launcher exits with the node's exit code, and the node exits when the launcher is gone
 * (main.ts watches its parent), as does the launcher when its own parent is gone.
 *
 * @module
 */

import { ConfigError, loadConfig, type NetworkGrant, nodePermissions } from "../src/config/mod.ts";

const mainPath = decodeURIComponent(new URL("../main.ts", import.meta.url).pathname);
const root = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** A word as a POSIX shell reads it back. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

const [grant, ...given] = Deno.args;
if (grant !== "strict" && grant !== "open" && grant !== "edge") {
  console.error(`Invalid grant ${JSON.stringify(grant)}: expected strict, open or edge`);
  Deno.exit(2);
}
const printOnly = given.includes("--print-command");
const args = given.filter((a) => a !== "--print-command");

let permissions: string[];
if (args.some((a) => ["-h", "--help", "-v", "--version"].includes(a))) {
  permissions = ["--no-prompt"]; // the node prints and exits: it needs nothing
} else {
  try {
    const config = loadConfig({
      env: (name) => Deno.env.get(name),
      args,
      hostname: () => "launcher", // the node name is the node's business
      checkFiles: false, // this process may not read them; the node checks them
    });
    // `edge` (the run:edge task): the strict grant, for a node that must run the edge cache.
    if (grant === "edge" && (config.origin === undefined || config.edgePort === undefined)) {
      throw new ConfigError("Invalid run:edge settings: ORIGIN and EDGE_PORT must be set");
    }
    permissions = nodePermissions(config, (grant === "edge" ? "strict" : grant) as NetworkGrant);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    Deno.exit(2);
  }
}

const command = ["run", ...permissions, mainPath, ...args];
if (printOnly) {
  console.log(["deno", ...command].map(shellWord).join(" "));
  Deno.exit(0);
}

const node = new Deno.Command("deno", { args: command, cwd: root }).spawn();
const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
const pass = (signal: Deno.Signal) => {
  try {
    node.kill(signal);
  } catch {
    // already exited
  }
};
for (const signal of signals) Deno.addSignalListener(signal, () => pass(signal));
// A `deno task` wrapper killed with SIGKILL passes nothing on: stop the node when it is gone.
const parent = Deno.ppid;
const parentWatch = setInterval(() => {
  if (Deno.ppid !== parent) pass("SIGTERM");
}, 250);
Deno.unrefTimer(parentWatch);
const status = await node.status;
Deno.exit(status.code);
