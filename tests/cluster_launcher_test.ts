/**
 * `deno task cluster` starts N real nodes joined into one cluster, prints their URLs, and stops
 * them all cleanly on SIGINT (Ctrl-C).
 */

import assert from "node:assert/strict";
import { freePort, waitFor } from "../testing/mod.ts";

/** A port p such that p, p + 1 and p + 2 are free on 127.0.0.1. */
function threeFreePorts(): number {
  for (;;) {
    const p = freePort();
    if (p > 60000) continue;
    try {
      const ls = [0, 1, 2].map((i) => Deno.listen({ hostname: "127.0.0.1", port: p + i }));
      ls.forEach((l) => l.close());
      return p;
    } catch {
      // try another
    }
  }
}

Deno.test("deno task cluster --help prints the usage and exits 0", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "cluster", "--help"],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(new TextDecoder().decode(out.stdout), /Usage: deno task cluster .*--nodes N/s);
});

Deno.test("deno task cluster starts 3 joined nodes and stops them on Ctrl-C", async () => {
  const httpBase = threeFreePorts();
  const gossipBase = threeFreePorts();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "cluster",
      "--http-base",
      String(httpBase),
      "--gossip-base",
      String(gossipBase),
      "--",
      "GOSSIP_PROFILE=local",
      "LOG_LEVEL=warn",
    ],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
  })();
  const errText = new Response(child.stderr).text();
  try {
    // The URL lines may arrive in a later chunk than the "running" line: wait for the last one.
    await waitFor(
      "launcher URLs",
      () => out.includes(`node-2  http://127.0.0.1:${httpBase + 2}`) || undefined,
      100_000,
    );
    for (let i = 0; i < 3; i++) assert.ok(out.includes(`http://127.0.0.1:${httpBase + i}`), out);
    await waitFor("3 alive members", async () => {
      const res = await fetch(`http://127.0.0.1:${httpBase + 2}/cluster/members`);
      const members = await res.json();
      return members.filter((m: { state: string }) => m.state === "alive").length === 3 ||
        undefined;
    }, 20_000);
  } finally {
    // `deno task` forwards SIGINT to its child, the launcher, which stops the nodes.
    try {
      child.kill("SIGINT");
    } catch {
      // it already exited: the assertions below report how
    }
  }
  const status = await child.status;
  await reading;
  const stderr = await errText;
  assert.equal(status.code, 0, `${out}\n${stderr}`);
  assert.match(out, /all nodes stopped cleanly/);
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`http://127.0.0.1:${httpBase + i}/healthz`).catch(() => undefined);
    await res?.body?.cancel();
    assert.equal(res, undefined, `node ${i} still answers after the launcher stopped`);
  }
});

Deno.test("deno task cluster fails naming the node whose port is taken, and stops the others", async () => {
  const httpBase = threeFreePorts();
  const gossipBase = threeFreePorts();
  // node-1's HTTP port is taken by something that never answers.
  using taken = Deno.listen({ hostname: "127.0.0.1", port: httpBase + 1 });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "cluster",
      "--http-base",
      String(httpBase),
      "--gossip-base",
      String(gossipBase),
      "--",
      "GOSSIP_PROFILE=local",
    ],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(100_000),
  }).output();
  taken.close();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, `${stdout}\n${stderr}`);
  assert.doesNotMatch(stdout, /cluster of 3 running/);
  assert.match(
    stderr,
    new RegExp(
      `Cannot start the cluster: node-1 \\(HTTP port ${httpBase + 1}, gossip port ${
        gossipBase + 1
      }\\) exited with code 1`,
    ),
  );
  assert.match(
    stderr,
    new RegExp(`node-1 \\| .*Cannot listen for HTTP on 127\\.0\\.0\\.1:${httpBase + 1}`),
  );
  assert.match(stderr + stdout, /^node-0 \| /m, "node log lines are prefixed with the node name");
  for (const port of [httpBase, httpBase + 2]) {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    await res?.body?.cancel();
    assert.equal(res, undefined, `a node still answers on ${port} after the launcher failed`);
  }
});
