import assert from "node:assert/strict";
import { CacheNode } from "./cache_node.ts";

Deno.test("CacheNode runs the edge listener on EDGE_PORT 0, shows its counters, closes and restarts it", async () => {
  let calls = 0;
  const origin = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    calls++;
    return new Response("o", { headers: { "cache-control": "max-age=60" } });
  });
  const node = new CacheNode({
    httpPort: 0,
    edgePort: 0,
    origin: `http://127.0.0.1:${origin.addr.port}`,
  });
  try {
    for (let run = 0; run < 2; run++) {
      await node.start({ cluster: false });
      const port = node.edgeAddress?.port;
      assert.ok(port !== undefined && port > 0);
      const answers = [];
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/page`);
        answers.push([res.headers.get("x-cache"), await res.text()]);
      }
      // The store outlives a restart: the second run starts with the page cached.
      assert.deepEqual(
        answers,
        run === 0 ? [["MISS", "o"], ["HIT", "o"]] : [["HIT", "o"], [
          "HIT",
          "o",
        ]],
      );
      assert.equal(node.stats().edge?.originRequests, run === 0 ? 1 : 0); // counted per start
      await node.close();
      assert.equal(node.edgeAddress, undefined);
      await assert.rejects(() => fetch(`http://127.0.0.1:${port}/page`));
    }
    assert.equal(calls, 1);
  } finally {
    await node.close();
    await origin.shutdown();
  }
});

Deno.test("CacheNode without ORIGIN or EDGE_PORT runs no edge", async () => {
  await using node = new CacheNode({ httpPort: 0, edgePort: 0 });
  await node.start({ cluster: false });
  assert.equal(node.edgeAddress, undefined);
  assert.equal(node.stats().edge, undefined);
});

Deno.test("a node is not ready until its worker pool listens on EDGE_PORT", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cachenode-slow-worker-" });
  // A module that takes a while to load: the pool starts only once it has.
  await Deno.writeTextFile(
    `${dir}/worker.ts`,
    `await new Promise((r) => setTimeout(r, 800));
export default { fetch: () => new Response("up") };`,
  );
  const node = new CacheNode({
    httpPort: 0,
    edgePort: 0,
    worker: `${dir}/worker.ts`,
    workerPool: 1,
  });
  try {
    const starting = node.start({ cluster: false });
    const seen = new Set<string>();
    let started = false;
    starting.then(() => started = true, () => started = true);
    while (!started) {
      const r = node.readiness();
      seen.add(r.ready ? "ready" : r.reason ?? "");
      await new Promise((r) => setTimeout(r, 20));
    }
    await starting;
    assert.ok(seen.has("edge listener starting"), [...seen].join(", "));
    assert.ok(!seen.has("ready"), "ready before the edge listened");
    assert.deepEqual(node.readiness(), { ready: true });
    const res = await fetch(`http://127.0.0.1:${node.edgeAddress!.port}/`);
    assert.equal(await res.text(), "up");
  } finally {
    await node.close();
    await Deno.remove(dir, { recursive: true });
  }
});
