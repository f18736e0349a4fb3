/**
 * Edge workers on real nodes started with the README's `deno task run`: a Hono app written for
 * Cloudflare Workers runs from its wrangler.toml; the rate-limit example on three nodes gives
 * five clients one exact shared limit and its cached API one origin request per key; the
 * sandbox refuses files, env, processes and hosts not allowed; a handler that loops, throws or
 * allocates without end costs its worker, never the node or its data.
 */

import assert from "node:assert/strict";
import { freePort, NodeProcess, waitFor } from "../testing/mod.ts";

/** A request's options, with Deno's own HTTP client. */
type EdgeInit = RequestInit & { client?: Deno.HttpClient };

/** Starts a node serving a worker on a fresh edge port; resolves once that port answers. */
async function workerNode(
  env: Record<string, string>,
): Promise<{ node: NodeProcess; edge: (path: string, init?: EdgeInit) => Promise<Response> }> {
  const edgePort = freePort();
  const node = await NodeProcess.start({ EDGE_PORT: String(edgePort), ...env });
  const edge = (path: string, init?: EdgeInit) =>
    fetch(`http://127.0.0.1:${edgePort}${path}`, init);
  try {
    await waitFor(`${node.env.NODE_NAME} edge port`, async () => {
      const res = await edge("/").catch(() => undefined);
      await res?.body?.cancel();
      return res ? true : undefined;
    }, 20_000);
  } catch (err) {
    await node.stop();
    throw new Error(`${err}\n${node.logs.join("\n")}`);
  }
  return { node, edge };
}

/** A test origin that counts requests per path and answers JSON. */
function testOrigin(): { url: string; hits: Map<string, number>; close(): Promise<void> } {
  const hits = new Map<string, number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    return Response.json({ path, served: hits.get(path) });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, hits, close: () => server.shutdown() };
}

Deno.test("a Hono app written for Cloudflare Workers runs unchanged from its wrangler.toml", async () => {
  const { node, edge } = await workerNode({
    WORKER: "examples/hono_kv/src/index.ts",
    WORKER_CONFIG: "examples/hono_kv/wrangler.toml",
    WORKER_POOL: "2",
  });
  try {
    assert.equal(await (await edge("/")).text(), "hello from wrangler.toml");
    const put = await edge("/notes/a", { method: "PUT", body: "first note" });
    assert.equal(put.status, 201);
    await put.body?.cancel();
    assert.equal(await (await edge("/notes/a")).text(), "first note");
    assert.deepEqual(await (await edge("/notes")).json(), ["a"]);
    const tooLong = await edge("/notes/b", { method: "PUT", body: "x".repeat(2000) });
    assert.equal(tooLong.status, 413, "MAX_NOTE_BYTES, a number in wrangler.toml, as a string");
    await tooLong.body?.cancel();
    // The binding's namespace in the cluster, seen through the node's own API.
    const stored = await fetch(node.url(`/cache/${encodeURIComponent("kv:NOTES:a")}`));
    assert.equal(await stored.text(), "first note");
    const missing = await edge("/notes/zz");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await node.stop("SIGTERM");
  }
});

Deno.test("rate-limit example on 3 nodes (one in direct mode): one exact shared limit; the cached API asks the origin once per key", async () => {
  const origin = testOrigin();
  const gossip = [freePort(), freePort(), freePort()];
  const nodes: Awaited<ReturnType<typeof workerNode>>[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await workerNode({
          PORT: String(gossip[i]),
          GOSSIP_PROFILE: "local",
          ...(i > 0 ? { PEERS: `127.0.0.1:${gossip[0]}` } : {}),
          WORKER: "examples/rate_limit/worker.ts",
          WORKER_POOL: "1",
          // The third node's worker listens itself: its KV and origin calls take the same path.
          WORKER_MODE: i === 2 ? "direct" : "pool",
          ORIGIN: origin.url,
          WORKER_VARS: JSON.stringify({ LIMIT: "12", WINDOW_SECONDS: "3600" }),
        }),
      );
    }
    for (const { node } of nodes) {
      await waitFor(`${node.env.NODE_NAME} sees 3 members`, async () => {
        const members: { state: string }[] = await (await fetch(node.url("/cluster/members")))
          .json();
        return members.filter((m) => m.state === "alive").length === 3 || undefined;
      }, 20_000);
    }

    // 5 clients, each on its own node (round robin), 6 requests each under one API key.
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, async (_, client) => {
        const { edge } = nodes[client % 3];
        const seen: [number, string][] = [];
        for (let i = 0; i < 6; i++) {
          const res = await edge("/limited", { headers: { "x-api-key": "team-a" } });
          seen.push([res.status, res.headers.get("x-ratelimit-window") ?? ""]);
          await res.body?.cancel();
        }
        return seen;
      }),
    );
    const perWindow = new Map<string, { ok: number; limited: number }>();
    for (const [status, window] of outcomes.flat()) {
      assert.ok(status === 200 || status === 429, `status ${status}`);
      const w = perWindow.get(window) ?? { ok: 0, limited: 0 };
      if (status === 200) w.ok++;
      else w.limited++;
      perWindow.set(window, w);
    }
    // Exact within a window (a run across an hour boundary sees two windows).
    for (const [window, { ok, limited }] of perWindow) {
      assert.equal(ok, Math.min(12, ok + limited), `window ${window}: ${ok} allowed`);
    }

    // The cached API: 5 clients × 3 nodes at once, on 2 keys: one origin request per key.
    const bodies = await Promise.all(
      Array.from({ length: 15 }, async (_, i) => {
        const res = await nodes[i % 3].edge(`/api/items/${i % 2}`, {
          headers: { "x-api-key": `client-${i}` },
        });
        assert.equal(res.status, 200);
        return await res.json();
      }),
    );
    assert.deepEqual(Object.fromEntries(origin.hits), { "/api/items/0": 1, "/api/items/1": 1 });
    for (const [i, body] of bodies.entries()) {
      assert.deepEqual(body, { path: `/api/items/${i % 2}`, served: 1 });
    }
  } finally {
    for (const { node } of nodes) await node.stop("SIGTERM");
    await origin.close();
  }
});

for (const isolation of ["thread", "process"]) {
  Deno.test(`the sandbox (${isolation} workers): files, env, processes, writes and other hosts refused; loops, throws and allocation cost only a worker`, async () => {
    const origin = testOrigin();
    const other = testOrigin();
    const { node, edge } = await workerNode({
      WORKER: "examples/forbidden/worker.ts",
      WORKER_POOL: "1",
      WORKER_ISOLATION: isolation,
      WORKER_TIMEOUT: "1s",
      WORKER_MEMORY: "200MiB",
      WORKER_ALLOW_NET: origin.url.replace("http://", ""),
    });
    const text = async (path: string) => {
      const res = await edge(path);
      return `${res.status} ${(await res.text()).trim()}`;
    };
    try {
      const put = await fetch(node.url("/cache/kept"), { method: "PUT", body: "safe" });
      assert.equal(put.status, 200);
      await put.body?.cancel();

      assert.match(await text("/read?path=/etc/hostname"), /^200 NotCapable: Requires read access/);
      assert.match(await text("/read?path=deno.json"), /^200 NotCapable: Requires read access/);
      assert.equal(await text("/read-own"), "200 allowed", "its own folder");
      assert.match(await text("/env"), /^200 NotCapable: Requires env access/);
      assert.match(await text("/spawn"), /^200 NotCapable: Requires run access/);
      assert.match(await text("/write"), /^200 NotCapable: Requires write access/);
      const fetchOf = (url: string) => text(`/fetch?url=${encodeURIComponent(url)}`);
      assert.equal(await fetchOf(origin.url + "/x"), "200 allowed");
      assert.match(await fetchOf(other.url + "/x"), /^200 NotCapable: Requires net access/);

      assert.equal(await text("/loop"), "503 Worker timed out");
      assert.equal(await text("/"), "200 ok", "a fresh worker serves");
      assert.equal(await text("/hang"), "503 Worker timed out");
      assert.equal(await text("/throw"), "500 Internal error in the worker");
      assert.ok(node.logs.some((l) => l.includes("thrown by the handler")), "the error is logged");
      assert.equal(await text("/allocate"), "503 Worker exceeded its memory limit");
      assert.equal(await text("/"), "200 ok");

      // The node itself is fine and kept its data.
      assert.equal(await (await fetch(node.url("/cache/kept"))).text(), "safe");
      const stats = await (await fetch(node.url("/stats"))).json();
      assert.equal(stats.workers.timeouts, 2);
      assert.equal(stats.workers.memoryKills, 1);
      assert.equal(stats.workers.restarts, 3);
      assert.ok(stats.workers.errors >= 2, JSON.stringify(stats.workers));
    } finally {
      await node.stop("SIGTERM");
      await origin.close();
      await other.close();
    }
  });
}

Deno.test("WORKER_MODE=direct: the workers listen themselves under the same sandbox; a stuck worker is replaced, its connection closed", async () => {
  const origin = testOrigin();
  const other = testOrigin();
  const { node, edge } = await workerNode({
    WORKER: "examples/forbidden/worker.ts",
    WORKER_MODE: "direct",
    WORKER_POOL: "2",
    WORKER_TIMEOUT: "1s",
    WORKER_MEMORY: "200MiB",
    WORKER_ALLOW_NET: origin.url.replace("http://", ""),
  });
  // A fresh connection per request: a pooled one that a killed worker closed would be retried
  // by the client, running the request twice.
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const text = async (path: string) => {
    // Bounded: a worker left stuck would hold the request forever.
    const res = await edge(path, { client, signal: AbortSignal.timeout(8_000) });
    return `${res.status} ${(await res.text()).trim()}`;
  };
  const workerStats = async () => (await (await fetch(node.url("/stats"))).json()).workers;
  try {
    // A stuck worker cannot answer: the node kills it past the deadline, which closes the
    // connection, and a fresh worker listens in its place (tried first of all: one stuck before
    // its first heartbeat counts too). A connection that reached the dying process's listener
    // in the moment it exits is reset: asked again.
    const served = () =>
      waitFor(
        "a worker answers",
        () => text("/").then((t) => t === "200 ok" || undefined, () => {}),
      );
    await assert.rejects(() => text("/loop"), (err: Error) => err.name !== "TimeoutError");
    await served();
    const put = await fetch(node.url("/cache/kept"), { method: "PUT", body: "safe" });
    await put.body?.cancel();
    assert.match(await text("/read?path=/etc/hostname"), /^200 NotCapable: Requires read access/);
    assert.match(await text("/env"), /^200 NotCapable: Requires env access/);
    assert.match(await text("/spawn"), /^200 NotCapable: Requires run access/);
    const fetchOf = (url: string) => text(`/fetch?url=${encodeURIComponent(url)}`);
    assert.equal(await fetchOf(origin.url + "/x"), "200 allowed");
    assert.match(await fetchOf(other.url + "/x"), /^200 NotCapable: Requires net access/);

    // A handler that awaits forever is answered by its own worker at the deadline.
    assert.equal(await text("/hang"), "503 Worker timed out");
    assert.equal(await text("/throw"), "500 Internal error in the worker");
    await waitFor(
      "the error logged by the node",
      () => node.logs.some((l) => l.includes("thrown by the handler")) || undefined,
    );
    await assert.rejects(() => text("/allocate"), (err: Error) => err.name !== "TimeoutError");
    await served();
    await waitFor("both workers serving again", async () => {
      const s = await workerStats();
      return s.restarts === 2 && s.pool === 2 || undefined;
    });
    for (let i = 0; i < 10; i++) assert.equal(await text("/"), "200 ok");

    assert.equal(await (await fetch(node.url("/cache/kept"))).text(), "safe");
    // Counters reach the node from the workers a moment later.
    const stats = await waitFor("counters", async () => {
      const s = await workerStats();
      return s.timeouts === 2 && s.requests >= 20 ? s : undefined;
    });
    assert.equal(stats.memoryKills, 1);
    assert.ok(stats.errors >= 1, JSON.stringify(stats));

    // Killed outright, the node takes its worker processes along (their stdin ends): the edge
    // port stops answering.
    await node.stop("SIGKILL");
    await waitFor("worker processes gone", () => text("/").then(() => undefined, () => true));
  } finally {
    client.close();
    await node.stop("SIGTERM");
    await origin.close();
    await other.close();
  }
});

for (const mode of ["pool", "direct"]) {
  Deno.test(`SIGHUP reloads the worker module without dropping the request in flight (${mode})`, async () => {
    // The run task reads worker modules from ./workers (and ./examples): a scratch folder there.
    const dir = `workers/.e2e-${crypto.randomUUID().slice(0, 8)}`;
    const root = new URL("../", import.meta.url);
    const file = new URL(`${dir}/worker.ts`, root);
    const version = (v: string) =>
      `export default {
      async fetch(request) {
        if (new URL(request.url).pathname === "/slow") await new Promise((r) => setTimeout(r, 1000));
        return new Response("${v}");
      },
    };`;
    await Deno.mkdir(new URL(dir, root), { recursive: true });
    await Deno.writeTextFile(file, version("v1"));
    try {
      const { node, edge } = await workerNode({
        WORKER: `${dir}/worker.ts`,
        WORKER_POOL: "1",
        WORKER_MODE: mode,
      });
      try {
        assert.equal(await (await edge("/")).text(), "v1");
        const slow = edge("/slow").then((r) => r.text());
        await Deno.writeTextFile(file, version("v2"));
        node.signal("SIGHUP");
        await waitFor(
          "v2 served",
          async () => await (await edge("/")).text() === "v2" || undefined,
        );
        assert.equal(await slow, "v1", "the request in flight finished on the old version");
        const stats = await (await fetch(node.url("/stats"))).json();
        assert.equal(stats.workers.reloads, 1);
      } finally {
        await node.stop("SIGTERM");
      }
    } finally {
      await Deno.remove(new URL(dir, root), { recursive: true });
      await Deno.remove(new URL("workers/", root)).catch(() => {}); // only when left empty
    }
  });
}

Deno.test("a worker outside the folders the run task may read stops the node at start, saying why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cachenode-outside-" });
  try {
    await Deno.writeTextFile(
      `${dir}/worker.ts`,
      `export default { fetch: () => new Response("x") };`,
    );
    await assert.rejects(
      () => NodeProcess.start({ WORKER: `${dir}/worker.ts`, EDGE_PORT: String(freePort()) }),
      (err: Error) =>
        err.message.startsWith("node exited with 1") &&
        err.message.includes(`Cannot start workers: this process may not read ${dir}`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WORKER_MODE=direct under the run task (which may start no process) stops the node at start, saying which task does", async () => {
  await assert.rejects(
    () =>
      NodeProcess.start({
        WORKER: "examples/hello/worker.ts",
        WORKER_MODE: "direct",
        EDGE_PORT: String(freePort()),
      }, { task: "run" }),
    (err: Error) =>
      err.message.startsWith("node exited with 1") &&
      err.message.includes("the run:processes task grants --allow-run=deno"),
  );
});
