/**
 * The permissions the README's commands give a node, proven from inside them: a probe script runs
 * with the exact flags of a deno.json task (`$VAR`s expanded as `deno task` does) and tries what
 * a compromised node might — read files it was not given, write, spawn processes, read other env
 * vars, query the system, load native code, listen or connect on unrelated ports. Each attempt
 * must fail with Deno's `NotCapable`; what the node needs must work. A real cluster then runs
 * under `run:strict` (network limited to the two configured ports), on two loopback addresses.
 */

import assert from "node:assert/strict";
import { CONFIG_ENV_VARS } from "../mod.ts";
import { freePort, waitFor } from "../testing/mod.ts";

const root = new URL("../", import.meta.url);
const probe = new URL("permission_probe.ts", import.meta.url).pathname;

/** A task's words after `deno run` up to the entry point, `$VAR`s replaced from `env`. */
async function taskFlags(task: string, env: Record<string, string> = {}): Promise<string[]> {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const words = (denoJson.tasks[task] as string).split(/\s+/).filter((w) => w !== "");
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  assert.equal(words.at(-1), "main.ts");
  return words.slice(2, -1).map((w) => w.replace(/\$([A-Z_]+)/g, (_, name) => env[name] ?? ""));
}

interface ProbeInput {
  read: string[];
  envAllowed: string[];
  ports: number[];
  unrelatedPort: number;
}

/** Runs the probe with `flags` and returns each attempt's outcome. */
async function runProbe(flags: string[], input: ProbeInput): Promise<Record<string, string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, probe, JSON.stringify(input)],
    cwd: root,
    env: { HOME: "/root", NO_COLOR: "1", AUTH_TOKEN: "x".repeat(16) },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(text);
}

/** Files a node must not read: a fresh secret, the project's own files, system files. */
async function forbiddenFiles(): Promise<{ files: string[]; remove(): Promise<void> }> {
  const secret = await Deno.makeTempFile({ prefix: "cachenode-secret-" });
  await Deno.writeTextFile(secret, "not for the node");
  const files = [secret, new URL("deno.json", root).pathname, new URL("main.ts", root).pathname];
  for (const system of ["/etc/passwd", "/etc/hostname", "/proc/self/environ"]) {
    if (await Deno.stat(system).then(() => true, () => false)) files.push(system);
  }
  return { files, remove: () => Deno.remove(secret) };
}

/** The attempts every task must refuse, whatever its network grant. */
function assertLockedDown(outcomes: Record<string, string>, files: string[]): void {
  for (const file of files) assert.equal(outcomes[`read ${file}`], "denied", `read ${file}`);
  for (
    const what of [
      "read cwd",
      "write tmp",
      "run true",
      "run deno",
      "env HOME",
      "env PATH",
      "env all",
      "sys osRelease",
      "sys networkInterfaces",
      "ffi dlopen",
    ]
  ) {
    assert.equal(outcomes[what], "denied", what);
  }
  // What the node needs: its own settings and the host name (the default node name).
  for (const name of CONFIG_ENV_VARS) assert.equal(outcomes[`env ${name}`], "allowed", name);
  assert.equal(outcomes["sys hostname"], "allowed");
}

Deno.test("run and start tasks: no files, processes, other env vars, system details or FFI", async () => {
  const { files, remove } = await forbiddenFiles();
  try {
    for (const task of ["run", "start"]) {
      const flags = await taskFlags(task);
      assert.ok(flags.includes("--no-prompt"), `${task} must fail, not ask, on a missing grant`);
      const outcomes = await runProbe(flags, {
        read: files,
        envAllowed: [...CONFIG_ENV_VARS],
        ports: [],
        unrelatedPort: freePort(),
      });
      assertLockedDown(outcomes, files);
    }
  } finally {
    await remove();
  }
});

Deno.test("run:tls task: reads its certificate and key, and no other file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cachenode-tlsperm-" });
  const [cert, key, ca] = ["cert.pem", "key.pem", "ca.pem"].map((f) => `${dir}/${f}`);
  for (const f of [cert, key, ca]) await Deno.writeTextFile(f, "pem");
  const { files, remove } = await forbiddenFiles();
  try {
    const flags = await taskFlags("run:tls", { TLS_CERT: cert, TLS_KEY: key });
    const outcomes = await runProbe(flags, {
      read: [cert, key, ca, dir, ...files],
      envAllowed: [...CONFIG_ENV_VARS],
      ports: [],
      unrelatedPort: freePort(),
    });
    assert.equal(outcomes[`read ${cert}`], "allowed");
    assert.equal(outcomes[`read ${key}`], "allowed");
    assert.equal(outcomes[`read ${ca}`], "denied", "a file next to them");
    assert.equal(outcomes[`read ${dir}`], "denied", "their directory");
    assertLockedDown(outcomes, files);
  } finally {
    await remove();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run:strict task: the network is limited to PORT and HTTP_PORT", async () => {
  const { files, remove } = await forbiddenFiles();
  try {
    const ports = [freePort(), freePort()];
    const unrelatedPort = freePort();
    const flags = await taskFlags("run:strict", {
      PORT: String(ports[0]),
      HTTP_PORT: String(ports[1]),
    });
    const outcomes = await runProbe(flags, {
      read: files,
      envAllowed: [...CONFIG_ENV_VARS],
      ports,
      unrelatedPort,
    });
    assertLockedDown(outcomes, files);
    for (const p of ports) {
      assert.equal(outcomes[`listen tcp ${p}`], "allowed");
      assert.equal(outcomes[`listen udp ${p}`], "allowed");
    }
    for (
      const what of [
        "listen tcp unrelated",
        "listen udp unrelated",
        "connect tcp unrelated",
        "fetch unrelated",
      ]
    ) {
      assert.equal(outcomes[what], "denied", what);
    }
  } finally {
    await remove();
  }
});

Deno.test("run:strict task: a two-node cluster on 127.0.0.1 and 127.0.0.2 replicates", async () => {
  const [port, httpPort] = [freePort(), freePort()];
  const nodes: Deno.ChildProcess[] = [];
  const url = (host: string, path: string) => `http://${host}:${httpPort}${path}`;
  try {
    for (const [i, host] of ["127.0.0.1", "127.0.0.2"].entries()) {
      const env: Record<string, string> = {
        PORT: String(port),
        HTTP_PORT: String(httpPort),
        BIND_ADDR: host,
        NODE_NAME: `strict-${i}`,
        GOSSIP_PROFILE: "local",
        ...(i > 0 ? { PEER: `127.0.0.1:${port}` } : {}),
      };
      nodes.push(
        new Deno.Command(Deno.execPath(), {
          args: ["run", ...await taskFlags("run:strict", env), "main.ts"],
          cwd: root,
          env: { ...env, NO_COLOR: "1" },
          clearEnv: true,
          stdin: "null",
          stdout: "null",
          stderr: "null",
        }).spawn(),
      );
    }
    for (const host of ["127.0.0.1", "127.0.0.2"]) {
      await waitFor(`${host} ready`, async () => {
        const res = await fetch(url(host, "/readyz")).catch(() => undefined);
        await res?.body?.cancel();
        return res?.ok || undefined;
      }, 20_000);
    }
    await waitFor("write acknowledged by both", async () => {
      const res = await fetch(url("127.0.0.2", "/cache/k"), {
        method: "PUT",
        headers: { "content-type": "text/plain", "x-write-acks": "2" },
        body: "strict",
      });
      await res.body?.cancel();
      return res.status === 200 || undefined;
    }, 20_000);
    assert.equal(await (await fetch(url("127.0.0.1", "/cache/k"))).text(), "strict");
  } finally {
    for (const node of nodes) {
      try {
        node.kill("SIGKILL");
      } catch {
        // already exited
      }
      await node.status;
    }
  }
});
