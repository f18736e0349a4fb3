/**
 * The permissions the README's commands give a node, proven from inside them: a probe script runs
 * with the exact flags of a deno.json task (`run`, `start`), or with the flags the launcher of
 * `run:tls` and `run:strict` prints for given settings (`--print-command`), and tries what a
 * compromised node might — read files it was not given, write, spawn processes, read other env
 * vars, query the system, load native code, listen or connect on unrelated ports. Each attempt
 * must fail with Deno's `NotCapable`; what the node needs must work. Real clusters then run under
 * `run:strict`: two nodes on two loopback addresses with the same ports, and three nodes on one
 * host, each given its peers' addresses, one of which is refused a member it was not given.
 */

import assert from "node:assert/strict";
import { CONFIG_ENV_VARS } from "../mod.ts";
import { freePort, NodeProcess, runTaskCommand, waitFor } from "../testing/mod.ts";

const root = new URL("../", import.meta.url);
const probe = new URL("permission_probe.ts", import.meta.url).pathname;
const mainPath = new URL("main.ts", root).pathname;

/** A task's words after `deno run` up to the entry point (`run` and `start`: fixed flags). */
async function taskFlags(task: string): Promise<string[]> {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const words = (denoJson.tasks[task] as string).split(/\s+/).filter((w) => w !== "");
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  assert.equal(words.at(-1), "main.ts");
  assert.ok(!words.some((w) => w.includes("$")), `${task} must not depend on env vars`);
  return words.slice(2, -1);
}

/**
 * The node's permission flags that the launcher of `task` (run:tls, run:strict) computes from
 * `env` and `args`, as printed by `--print-command` (`deno run <flags> <main.ts> <args>`).
 */
async function launcherFlags(
  task: string,
  env: Record<string, string>,
  args: string[],
): Promise<string[]> {
  const [program, ...taskArgs] = await runTaskCommand(task);
  const out = await new Deno.Command(program, {
    args: [...taskArgs, ...args, "--print-command"],
    cwd: root,
    env: { ...env, NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" },
    clearEnv: true,
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const words = new TextDecoder().decode(out.stdout).trim().split(" ");
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  const main = words.indexOf(mainPath);
  assert.deepEqual(words.slice(main + 1), args, "the node gets the same flags");
  return words.slice(2, main);
}

interface ProbeInput {
  read: string[];
  envAllowed: string[];
  ports: number[];
  connectPorts?: number[];
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

Deno.test("run, start and run:processes tasks: no files, processes, other env vars, system details or FFI", async () => {
  const { files, remove } = await forbiddenFiles();
  try {
    // run:processes may start `deno` by name (the probe starts it by its full path: refused too).
    for (const task of ["run", "start", "run:processes"]) {
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

Deno.test("run:processes task: the run task's grant plus starting deno by name, nothing else", async () => {
  const direct = await taskFlags("run:processes");
  assert.ok(direct.includes("--allow-run=deno"));
  assert.deepEqual(direct.filter((f) => f !== "--allow-run=deno"), await taskFlags("run"));
});

Deno.test("run:tls task: reads exactly the TLS files it is given, by flag or env var", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cachenode-tlsperm-" });
  const [cert, key, ca] = ["cert.pem", "key.pem", "ca.pem"].map((f) => `${dir}/${f}`);
  for (const f of [cert, key, ca]) await Deno.writeTextFile(f, "pem");
  const { files, remove } = await forbiddenFiles();
  try {
    const givens: [Record<string, string>, string[], boolean][] = [
      [{}, ["--tls-cert", cert, "--tls-key", key], false],
      [{ TLS_CERT: cert, TLS_KEY: key }, [], false],
      [{ TLS_CERT: cert, TLS_CA: ca }, [`--tls-key=${key}`], true],
    ];
    for (const [env, args, caGiven] of givens) {
      const flags = await launcherFlags("run:tls", env, args);
      assert.ok(flags.includes("--allow-net"), "run:tls keeps the network open");
      const outcomes = await runProbe(flags, {
        read: [cert, key, ca, dir, ...files],
        envAllowed: [...CONFIG_ENV_VARS],
        ports: [],
        unrelatedPort: freePort(),
      });
      assert.equal(outcomes[`read ${cert}`], "allowed");
      assert.equal(outcomes[`read ${key}`], "allowed");
      assert.equal(outcomes[`read ${ca}`], caGiven ? "allowed" : "denied", "a file next to them");
      assert.equal(outcomes[`read ${dir}`], "denied", "their directory");
      assertLockedDown(outcomes, files);
    }
  } finally {
    await remove();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run:tls and run:strict launchers: may start deno (by name), and nothing else", async () => {
  const { files, remove } = await forbiddenFiles();
  try {
    for (const task of ["run:tls", "run:strict"]) {
      const [, ...words] = await runTaskCommand(task);
      assert.deepEqual(words.slice(0, 1), ["run"]);
      const flags = words.slice(1, words.indexOf("scripts/sandbox.ts"));
      assert.deepEqual(
        flags.filter((f) => f.startsWith("--allow-") && !f.startsWith("--allow-env")),
        [
          "--allow-run=deno",
        ],
      );
      const outcomes = await runProbe(flags, {
        read: files,
        envAllowed: [...CONFIG_ENV_VARS],
        ports: [],
        unrelatedPort: freePort(),
      });
      for (const file of files) assert.equal(outcomes[`read ${file}`], "denied", `read ${file}`);
      for (const what of ["write tmp", "run true", "env PATH", "sys hostname", "fetch unrelated"]) {
        assert.equal(outcomes[what], "denied", `${task}: ${what}`);
      }
    }
  } finally {
    await remove();
  }
});

Deno.test("run:strict task: the network is limited to its ports and its peers' addresses", async () => {
  const { files, remove } = await forbiddenFiles();
  try {
    const [port, httpPort, peerGossip, peerHttp] = [freePort(), freePort(), freePort(), freePort()];
    const unrelatedPort = freePort();
    const byEnv = {
      PORT: String(port),
      HTTP_PORT: String(httpPort),
      PEERS: `127.0.0.1:${peerGossip}`,
      PEER_HTTP: `127.0.0.1:${peerHttp}`,
    };
    const byFlags = [
      `--port=${port}`,
      "--http-port",
      String(httpPort),
      "--peers",
      `127.0.0.1:${peerGossip}`,
      "--peer-http",
      `127.0.0.1:${peerHttp}`,
    ];
    const flags = await launcherFlags("run:strict", {}, byFlags);
    assert.deepEqual(
      await launcherFlags("run:strict", byEnv, []),
      flags,
      "env vars grant the same",
    );
    const outcomes = await runProbe(flags, {
      read: files,
      envAllowed: [...CONFIG_ENV_VARS],
      ports: [port, httpPort],
      connectPorts: [peerGossip, peerHttp],
      unrelatedPort,
    });
    assertLockedDown(outcomes, files);
    for (const p of [port, httpPort]) {
      assert.equal(outcomes[`listen tcp ${p}`], "allowed");
      assert.equal(outcomes[`listen udp ${p}`], "allowed");
    }
    // Nothing listens there: the connection is refused by the host, not by Deno.
    for (const p of [peerGossip, peerHttp]) {
      assert.equal(outcomes[`connect tcp ${p}`], "ConnectionRefused", `connect ${p}`);
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
      const [program, ...args] = await runTaskCommand("run:strict");
      nodes.push(
        new Deno.Command(program, {
          args,
          cwd: root,
          env: { ...env, NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" },
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
        node.kill("SIGTERM"); // the launcher passes it on to its node and exits with it
      } catch {
        // already exited
      }
      await node.status;
    }
  }
});

Deno.test("run:strict task: a three-node cluster on one host joins and replicates; a member it was not given is refused", async () => {
  const gossip = [freePort(), freePort(), freePort()];
  const http = [freePort(), freePort(), freePort()];
  const others = (i: number, ports: number[]) =>
    ports.filter((_, j) => j !== i).map((p) => `127.0.0.1:${p}`).join(",");
  const nodes: NodeProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const common = { NODE_NAME: `strict-${i}`, GOSSIP_PROFILE: "local" };
      // Node 0 by env vars, the others by flags: both must grant the same.
      nodes.push(
        i === 0
          ? await NodeProcess.start({
            ...common,
            PORT: String(gossip[0]),
            HTTP_PORT: String(http[0]),
            PEERS: others(0, gossip),
            PEER_HTTP: others(0, http),
          }, { task: "run:strict" })
          : await NodeProcess.start({
            ...common,
            PORT: String(gossip[i]),
            HTTP_PORT: String(http[i]),
          }, {
            task: "run:strict",
            portFlags: true,
            args: ["--peers", others(i, gossip), `--peer-http=${others(i, http)}`],
          }),
      );
    }
    for (const node of nodes) {
      await waitFor(`${node.env.NODE_NAME} sees 3 members`, async () => {
        const members: { state: string }[] = await (await fetch(node.url("/cluster/members")))
          .json();
        return members.filter((m) => m.state === "alive").length === 3 || undefined;
      }, 20_000);
    }
    await waitFor("write acknowledged by all three", async () => {
      const res = await fetch(nodes[0].url("/cache/k"), {
        method: "PUT",
        headers: { "content-type": "text/plain", "x-write-acks": "3" },
        body: "strict",
      });
      await res.body?.cancel();
      return res.status === 200 || undefined;
    }, 20_000);
    for (const node of nodes) {
      assert.equal(await (await fetch(node.url("/cache/k"))).text(), "strict");
    }

    // A fourth node (plain run task) joins through node 0, which learns it by gossip but was not
    // given its ports: Deno refuses node 0's packets to it, and node 0 logs the refusal.
    const intruder = await NodeProcess.start({
      NODE_NAME: "not-given",
      GOSSIP_PROFILE: "local",
      PEER: `127.0.0.1:${gossip[0]}`,
    });
    nodes.push(intruder);
    const refused = `Requires net access to \\"127.0.0.1:${intruder.gossipPort}\\"`;
    await waitFor(
      "node 0 refused by its permissions",
      () => nodes[0].logs.find((line) => line.includes(refused)),
      20_000,
    );
  } finally {
    for (const node of nodes) await node.stop("SIGTERM");
  }
});

Deno.test("run:edge task: the strict grant plus the edge port and the origin; ORIGIN required", async () => {
  const { files, remove } = await forbiddenFiles();
  try {
    const [port, httpPort, edgePort, originPort] = [freePort(), freePort(), freePort(), freePort()];
    const unrelatedPort = freePort();
    const env = {
      PORT: String(port),
      HTTP_PORT: String(httpPort),
      EDGE_PORT: String(edgePort),
      ORIGIN: `http://127.0.0.1:${originPort}`,
    };
    const flags = await launcherFlags("run:edge", env, []);
    assert.deepEqual(
      await launcherFlags("run:edge", {}, [
        `--port=${port}`,
        `--http-port=${httpPort}`,
        `--edge-port=${edgePort}`,
        `--origin=http://127.0.0.1:${originPort}`,
      ]),
      flags,
      "flags grant what env vars do",
    );
    const outcomes = await runProbe(flags, {
      read: files,
      envAllowed: [...CONFIG_ENV_VARS],
      ports: [port, httpPort, edgePort],
      connectPorts: [originPort],
      unrelatedPort,
    });
    assertLockedDown(outcomes, files);
    assert.equal(outcomes[`listen tcp ${edgePort}`], "allowed");
    assert.equal(outcomes[`connect tcp ${originPort}`], "ConnectionRefused");
    for (const what of ["listen tcp unrelated", "connect tcp unrelated", "fetch unrelated"]) {
      assert.equal(outcomes[what], "denied", what);
    }
    const [program, ...taskArgs] = await runTaskCommand("run:edge");
    const missing = await new Deno.Command(program, {
      args: [...taskArgs, "--print-command"],
      cwd: root,
      env: { PORT: String(port), NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" },
      clearEnv: true,
    }).output();
    assert.equal(missing.code, 2);
    assert.match(new TextDecoder().decode(missing.stderr), /ORIGIN and EDGE_PORT must be set/);
  } finally {
    await remove();
  }
});
