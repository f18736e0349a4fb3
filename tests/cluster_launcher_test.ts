/**
 * `deno task cluster` starts N real nodes joined into one cluster, prints their URLs, and stops
 * them all cleanly on SIGINT (Ctrl-C).
 */

import assert from "node:assert/strict";
import { freePort, waitFor } from "../testing/mod.ts";

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
  // Three consecutive free ports for each base.
  const base = () => {
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
  };
  const httpBase = base();
  const gossipBase = base();
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
