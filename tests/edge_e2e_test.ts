/**
 * Issue 20's edge cache on real processes started with the README's command: three nodes with
 * `ORIGIN` and `EDGE_PORT` in front of an origin served by this test (which counts what it is
 * asked): one origin request for 300 concurrent misses over the cluster, fresh hits with a
 * growing `Age`, revalidation by 304, `stale-while-revalidate` (stale at once, one refresh),
 * `Vary`, `no-store` and `Set-Cookie` never stored, bypasses, purge by tag and by URL seen as a
 * MISS on every node, a body over the value limit streamed and not stored, a slow origin (504),
 * and, with the origin stopped, `stale-if-error` within its window then 502.
 */

import assert from "node:assert/strict";
import {
  clusterEnv,
  FAST_GOSSIP,
  freePort,
  NodeProcess,
  waitFor,
  waitReady,
  waitSameDigest,
} from "../testing/mod.ts";

const ENV = {
  ...FAST_GOSSIP,
  ANTI_ENTROPY_INTERVAL: "1s",
  LOG_LEVEL: "warn",
  EDGE_ORIGIN_TIMEOUT: "1s",
  MAX_VALUE_BYTES: "256kb",
};

/** The test's origin: a response per path, and how often each path was asked (and how). */
function startOrigin() {
  const counts = new Map<string, number>();
  const conditional = new Map<string, number>();
  const swrGate = Promise.withResolvers<void>();
  let tagGate: Promise<void> | undefined;
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    bump(counts, path);
    const n = counts.get(path)!;
    const cc = (v: string, extra: Record<string, string> = {}) => ({
      headers: { "cache-control": v, "content-type": "text/plain", ...extra },
    });
    switch (path) {
      case "/herd":
        await new Promise((r) => setTimeout(r, 300));
        return new Response("herd-body", cc("max-age=60"));
      case "/fresh":
        return new Response(`fresh-${n}`, cc("max-age=60"));
      case "/reval":
        if (req.headers.get("if-none-match") === '"v1"') {
          bump(conditional, path);
          return new Response(null, { status: 304, ...cc("max-age=1", { etag: '"v1"' }) });
        }
        return new Response("reval-body", cc("max-age=1", { etag: '"v1"' }));
      case "/swr":
        if (n > 1) await swrGate.promise;
        return new Response(`swr-${n}`, cc("max-age=1, stale-while-revalidate=30"));
      case "/vary":
        return new Response(`enc=${req.headers.get("accept-encoding")}`, {
          headers: { "cache-control": "max-age=60", vary: "Accept-Encoding" },
        });
      case "/nostore":
        return new Response("x", cc("no-store"));
      case "/cookie":
        return new Response("x", cc("max-age=60", { "set-cookie": "session=secret" }));
      case "/tagged":
        await tagGate;
        return new Response(`tagged-${n}`, cc("max-age=60", { "cache-tag": "t1, t2" }));
      case "/big":
        return new Response(new Uint8Array(512 * 1024).fill(66), cc("max-age=60"));
      case "/slow":
        await new Promise((r) => setTimeout(r, 2000));
        return new Response("slow", cc("max-age=60"));
      case "/sie":
        return new Response(`sie-${n}`, cc("max-age=1, stale-if-error=3"));
      default:
        return new Response(`echo ${req.method} ${path}`, cc("max-age=60"));
    }
  });
  return {
    server,
    url: `http://127.0.0.1:${server.addr.port}`,
    count: (path: string) => counts.get(path) ?? 0,
    conditional: (path: string) => conditional.get(path) ?? 0,
    releaseSwr: () => swrGate.resolve(),
    /** Holds `/tagged` answers until the returned function is called. */
    holdTagged: () => {
      const gate = Promise.withResolvers<void>();
      tagGate = gate.promise;
      return () => {
        tagGate = undefined;
        gate.resolve();
      };
    },
  };
}

async function edgeMisses(nodes: NodeProcess[]): Promise<number[]> {
  return await Promise.all(
    nodes.map(async (n) => (await (await fetch(n.url("/stats"))).json()).edge.misses),
  );
}

/**
 * Starts one node per edge port into `nodes` (so the caller stops them even when a start fails),
 * joined through the first, and waits until they are peered.
 */
async function startEdgeCluster(
  nodes: NodeProcess[],
  prefix: string,
  edgePorts: number[],
  env: Record<string, string>,
): Promise<void> {
  const seed = freePort();
  for (const [i, port] of edgePorts.entries()) {
    nodes.push(
      await NodeProcess.start(
        clusterEnv(prefix, i, seed, { ...ENV, ...env, EDGE_PORT: String(port) }),
      ),
    );
  }
  await waitReady(nodes);
  for (const port of edgePorts) await waitListening(port);
}

/** Waits until something accepts TCP connections on `port` (without sending it a request). */
async function waitListening(port: number): Promise<void> {
  await waitFor(`port ${port} listening`, async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  }, 20_000);
}

interface Answer {
  status: number;
  body: string;
  xCache: string | null;
  age: number;
}

async function edgeGet(port: number, path: string, headers: HeadersInit = {}): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers,
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.text();
  return {
    status: res.status,
    body,
    xCache: res.headers.get("x-cache"),
    age: Number(res.headers.get("age") ?? "-1"),
  };
}

Deno.test("edge cache: 3 nodes in front of one origin (issue 20's list)", async (t) => {
  const origin = startOrigin();
  const edgePorts = [freePort(), freePort(), freePort()];
  const nodes: NodeProcess[] = [];
  try {
    await startEdgeCluster(nodes, "edge", edgePorts, { ORIGIN: origin.url });
    const [e0, e1, e2] = edgePorts;

    await t.step("300 concurrent GETs of one URL over 3 nodes: 1 origin request", async () => {
      const answers = await Promise.all(
        Array.from({ length: 300 }, (_, i) => edgeGet(edgePorts[i % 3], "/herd")),
      );
      assert.equal(origin.count("/herd"), 1);
      assert.ok(answers.every((a) => a.status === 200 && a.body === "herd-body"));
    });

    await t.step("fresh hit: no origin request, Age grows", async () => {
      assert.equal((await edgeGet(e0, "/fresh")).xCache, "MISS");
      const hit = await edgeGet(e0, "/fresh");
      assert.deepEqual([hit.xCache, hit.body], ["HIT", "fresh-1"]);
      await waitFor("Age ≥ 1", async () => (await edgeGet(e0, "/fresh")).age >= 1 || undefined);
      assert.equal(origin.count("/fresh"), 1);
    });

    await t.step("after max-age: one revalidation, the 304 refreshes the entry", async () => {
      assert.equal((await edgeGet(e1, "/reval")).xCache, "MISS");
      const refreshed = await waitFor("REVALIDATED", async () => {
        const a = await edgeGet(e1, "/reval");
        return a.xCache === "REVALIDATED" ? a : undefined;
      });
      assert.equal(refreshed.body, "reval-body");
      assert.equal(origin.conditional("/reval"), 1);
      assert.equal(origin.count("/reval"), 2);
      assert.equal((await edgeGet(e1, "/reval")).xCache, "HIT");
    });

    await t.step("stale-while-revalidate: stale at once, one background refresh", async () => {
      assert.equal((await edgeGet(e2, "/swr")).body, "swr-1");
      // The refresh waits on the gate: a STALE answer proves nobody waited on the origin.
      const stale = await waitFor("STALE", async () => {
        const a = await edgeGet(e2, "/swr");
        return a.xCache === "STALE" ? a : undefined;
      });
      assert.equal(stale.body, "swr-1");
      for (const port of edgePorts) assert.equal((await edgeGet(port, "/swr")).body, "swr-1");
      origin.releaseSwr();
      await waitFor(
        "refreshed",
        async () => (await edgeGet(e2, "/swr")).body === "swr-2" || undefined,
      );
      assert.equal(origin.count("/swr"), 2);
    });

    await t.step("Vary: Accept-Encoding keeps separate variants", async () => {
      const gzip = { "accept-encoding": "gzip" }, br = { "accept-encoding": "br" };
      assert.equal((await edgeGet(e0, "/vary", gzip)).body, "enc=gzip");
      assert.equal((await edgeGet(e0, "/vary", br)).body, "enc=br");
      const again = [await edgeGet(e0, "/vary", gzip), await edgeGet(e0, "/vary", br)];
      assert.deepEqual(again.map((a) => [a.xCache, a.body]), [
        ["HIT", "enc=gzip"],
        ["HIT", "enc=br"],
      ]);
      assert.equal(origin.count("/vary"), 2);
    });

    await t.step("no-store and Set-Cookie are never stored; Authorization bypasses", async () => {
      for (const path of ["/nostore", "/cookie"]) {
        await edgeGet(e0, path);
        assert.equal((await edgeGet(e1, path)).xCache, "MISS");
        assert.equal(origin.count(path), 2);
      }
      await edgeGet(e0, "/private-page", { authorization: "Bearer abc" });
      const bypass = await edgeGet(e0, "/private-page", { authorization: "Bearer abc" });
      assert.equal(bypass.xCache, "BYPASS");
      assert.equal(origin.count("/private-page"), 2);
      const post = await fetch(`http://127.0.0.1:${e0}/form`, { method: "POST", body: "a=1" });
      assert.deepEqual([await post.text(), post.headers.get("x-cache")], [
        "echo POST /form",
        "BYPASS",
      ]);
    });

    await t.step("purge by tag, then by URL: the next GET on every node is a MISS", async () => {
      await edgeGet(e0, "/tagged");
      await waitSameDigest(nodes);
      for (const port of edgePorts) assert.equal((await edgeGet(port, "/tagged")).xCache, "HIT");
      for (const purge of [{ tags: ["t2"] }, { urls: ["/tagged"] }]) {
        const before = origin.count("/tagged");
        const res = await fetch(nodes[1].url("/purge"), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(purge),
        });
        assert.equal(res.status, 200, await res.text());
        await waitSameDigest(nodes);
        // Every node finds nothing (a local miss each) while the one origin fetch is held.
        const misses = await edgeMisses(nodes);
        const release = origin.holdTagged();
        const next = Promise.all(edgePorts.map((port) => edgeGet(port, "/tagged")));
        await waitFor(
          "a miss on every node",
          async () => (await edgeMisses(nodes)).every((m, i) => m === misses[i] + 1) || undefined,
        );
        release();
        const answers = await next;
        assert.deepEqual(answers.map((a) => a.xCache), ["MISS", "MISS", "MISS"]);
        assert.ok(answers.every((a) => a.body === `tagged-${before + 1}`));
        assert.equal(origin.count("/tagged"), before + 1);
        await waitSameDigest(nodes);
      }
    });

    await t.step("a body over MAX_VALUE_BYTES is streamed, not stored", async () => {
      for (let i = 0; i < 2; i++) {
        const a = await edgeGet(e1, "/big");
        assert.deepEqual([a.status, a.body.length, a.xCache], [200, 512 * 1024, "MISS"]);
      }
      assert.equal(origin.count("/big"), 2);
    });

    await t.step("a slow origin: 504 with a clear body", async () => {
      const slow = await edgeGet(e0, "/slow");
      assert.equal(slow.status, 504);
      assert.match(JSON.parse(slow.body).error, /did not answer within 1000 ms/);
    });

    await t.step("origin stopped: stale-if-error within its window, then 502", async () => {
      assert.equal((await edgeGet(e2, "/sie")).body, "sie-1");
      await origin.server.shutdown();
      const stale = await waitFor("STALE while the origin is down", async () => {
        const a = await edgeGet(e2, "/sie");
        return a.xCache === "STALE" ? a : undefined;
      });
      assert.deepEqual([stale.status, stale.body], [200, "sie-1"]);
      const down = await waitFor("502 after the window", async () => {
        const a = await edgeGet(e2, "/sie");
        return a.status === 502 ? a : undefined;
      }, 10_000);
      assert.match(JSON.parse(down.body).error, /Origin unreachable/);
      assert.equal((await edgeGet(e0, "/never-cached")).status, 502);
    });

    await t.step("the edge section of /stats counts what happened", async () => {
      const stats = await Promise.all(
        nodes.map(async (n) => (await (await fetch(n.url("/stats"))).json()).edge),
      );
      const sum = (f: string) => stats.reduce((s, e) => s + e[f], 0);
      assert.ok(sum("hits") > 0 && sum("misses") > 0 && sum("stale") > 0);
      assert.equal(sum("revalidated"), 1);
      assert.ok(sum("coalescedWaiters") > 0 && sum("bypass") >= 3 && sum("originErrors") > 0);
    });
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await origin.server.shutdown().catch(() => {});
  }
});

Deno.test("edge cache, partitioned (REPLICAS=1) and signed: one origin request per URL, hits everywhere", async () => {
  const origin = startOrigin();
  const edgePorts = [freePort(), freePort(), freePort()];
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const nodes: NodeProcess[] = [];
  try {
    await startEdgeCluster(nodes, "edgep", edgePorts, {
      ORIGIN: origin.url,
      REPLICAS: "1",
      SECRET_KEY: key,
    });
    const paths = ["/p1", "/p2", "/p3", "/p4", "/p5"];
    const answers = await Promise.all(
      Array.from({ length: 150 }, (_, i) => edgeGet(edgePorts[i % 3], paths[i % 5])),
    );
    assert.ok(answers.every((a, i) => a.body === `echo GET ${paths[i % 5]}`));
    assert.deepEqual(paths.map(origin.count), [1, 1, 1, 1, 1]);
    // A node that holds no copy asks the key's primary owner, which answers from its cache.
    for (const port of edgePorts) {
      for (const path of paths) assert.equal((await edgeGet(port, path)).xCache, "HIT");
    }
    assert.deepEqual(paths.map(origin.count), [1, 1, 1, 1, 1]);
    // Every ask reached its primary (signed); none fell back to fetching on its own.
    const stats = await Promise.all(
      nodes.map(async (n) => (await (await fetch(n.url("/stats"))).json()).edge),
    );
    assert.deepEqual(stats.map((e) => e.primaryFallbacks), [0, 0, 0]);
    // The internal route wants the cluster's signature.
    const forged = await fetch(nodes[0].url("/internal/edge"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ target: "/p9", head: false, headers: [] }),
    });
    assert.equal(forged.status, 401, await forged.text());
    assert.equal(origin.count("/p9"), 0);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await origin.server.shutdown();
  }
});

Deno.test("run:edge task: a node under its grant fetches from the origin and serves hits", async () => {
  const origin = startOrigin();
  const edgePort = freePort();
  const node = await NodeProcess.start(
    { ...ENV, ORIGIN: origin.url, EDGE_PORT: String(edgePort) },
    { task: "run:edge" },
  );
  try {
    await waitListening(edgePort);
    assert.deepEqual(
      [(await edgeGet(edgePort, "/fresh")).xCache, (await edgeGet(edgePort, "/fresh")).xCache],
      ["MISS", "HIT"],
    );
    assert.equal(origin.count("/fresh"), 1);
  } finally {
    await node.stop();
    await origin.server.shutdown();
  }
});

Deno.test("a worker's env.ORIGIN.fetch is the edge's cached fetch", async () => {
  const origin = startOrigin();
  // The run task reads worker modules from ./workers (and ./examples): a scratch folder there.
  const dir = `workers/.e2e-edge-${crypto.randomUUID().slice(0, 8)}`;
  const root = new URL("../", import.meta.url);
  await Deno.mkdir(new URL(dir, root), { recursive: true });
  await Deno.writeTextFile(
    new URL(`${dir}/worker.ts`, root),
    `export default {
  fetch(request: Request, env: { ORIGIN: { fetch(input: string): Promise<Response> } }) {
    const url = new URL(request.url);
    return env.ORIGIN.fetch(url.pathname + url.search);
  },
};
`,
  );
  const edgePort = freePort();
  const node = await NodeProcess.start({
    ...ENV,
    ORIGIN: origin.url,
    EDGE_PORT: String(edgePort),
    WORKER: `${dir}/worker.ts`,
    WORKER_POOL: "1",
  });
  try {
    await waitListening(edgePort); // the worker runtime starts after /healthz answers
    const answers = [await edgeGet(edgePort, "/fresh"), await edgeGet(edgePort, "/fresh")];
    assert.deepEqual(answers.map((a) => [a.status, a.xCache, a.body]), [
      [200, "MISS", "fresh-1"],
      [200, "HIT", "fresh-1"],
    ]);
    assert.equal(origin.count("/fresh"), 1);
  } finally {
    await node.stop();
    await origin.server.shutdown();
    await Deno.remove(new URL(dir, root), { recursive: true });
    await Deno.remove(new URL("workers/", root)).catch(() => {}); // only when left empty
  }
});
