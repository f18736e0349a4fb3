/**
 * Start-up errors a new user meets, with the README's `run` command as a real process: a port in
 * use names the server and the port (HTTP, gossip TCP, gossip UDP) and exits 1; a `PEER` that
 * names an HTTP port says so instead of `unsupported message type: received 72`; `MAX_MEMORY`
 * below the default value limit alone is valid (the value limit follows it).
 */

import assert from "node:assert/strict";
import { freePort, NodeProcess, waitFor } from "../testing/mod.ts";

async function exitsWith(env: Record<string, string>, code: number, pattern: RegExp) {
  const node = await NodeProcess.start(env, { wait: false });
  const status = await node.status;
  await waitFor("the log", () => node.logs.some((l) => pattern.test(l)) || undefined, 5_000)
    .catch(() => assert.fail(`no line matching ${pattern}:\n${node.logs.join("\n")}`));
  assert.equal(status.code, code, node.logs.join("\n"));
}

Deno.test("a port in use names the server and the port", async (t) => {
  await t.step("HTTP", async () => {
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = taken.addr.port;
    const pattern = new RegExp(`Cannot listen for HTTP on 127\\.0\\.0\\.1:${port}: address in use`);
    await exitsWith({ HTTP_PORT: String(port) }, 1, pattern);
  });
  await t.step("gossip TCP", async () => {
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = taken.addr.port;
    const pattern = new RegExp(
      `Cannot listen for gossip \\(TCP\\) on 127\\.0\\.0\\.1:${port}: address in use`,
    );
    await exitsWith({ PORT: String(port) }, 1, pattern);
  });
  await t.step("gossip UDP", async () => {
    const port = freePort();
    const taken = Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" });
    const pattern = new RegExp(
      `Cannot listen for gossip \\(UDP\\) on 127\\.0\\.0\\.1:${port}: address in use`,
    );
    try {
      await exitsWith({ PORT: String(port) }, 1, pattern);
    } finally {
      taken.close();
    }
  });
});

Deno.test("a PEER naming an HTTP port is recognised by the HTTP answer", async () => {
  await using target = await NodeProcess.start();
  const httpAddress = `127.0.0.1:${target.httpPort}`;
  await using node = await NodeProcess.start({ PEER: httpAddress });
  await waitFor(
    "the join warning",
    () =>
      node.logs.some((l) =>
        l.includes(
          `${httpAddress} answered with HTTP: PEER must name a gossip port (PORT), not an HTTP port`,
        )
      ) || undefined,
    10_000,
  );
});

Deno.test("MAX_MEMORY alone below 4mb starts, the value limit following it", async () => {
  await using node = await NodeProcess.start({ MAX_MEMORY: "64kb" });
  assert.ok(node.logs.some((l) => l.includes("maxValueBytes=65536")), node.logs.join("\n"));
  const res = await fetch(node.url("/cache/k"), {
    method: "PUT",
    headers: { "content-type": "text/plain" },
    body: "x".repeat(1000),
  });
  await res.body?.cancel();
  assert.ok(res.ok, `PUT answered ${res.status}`);
});
