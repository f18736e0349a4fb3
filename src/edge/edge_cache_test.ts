import assert from "node:assert/strict";
import { startTestNode } from "../../testing/test_node.ts";
import { EDGE_ANSWER_HEADER, EdgeCache, type EdgeOptions } from "./edge_cache.ts";
import { urlTagOf } from "./record.ts";

const ORIGIN = "http://origin.test";

/** An origin answering from `handle`, counting calls; `gate` holds answers until released. */
function fakeOrigin(handle: (req: Request, n: number) => Response) {
  let calls = 0;
  let gate: Promise<void> | undefined;
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls++;
    const n = calls;
    if (gate) await gate;
    return handle(new Request(input, init), n);
  }) as typeof fetch;
  return {
    fetcher,
    calls: () => calls,
    hold() {
      const g = Promise.withResolvers<void>();
      gate = g.promise;
      return () => {
        gate = undefined;
        g.resolve();
      };
    },
  };
}

async function edgeOn(
  options: Partial<EdgeOptions>,
  handle: (req: Request, n: number) => Response,
) {
  const t = await startTestNode();
  const origin = fakeOrigin(handle);
  const edge = new EdgeCache({
    service: t.node,
    origin: ORIGIN,
    fetch: origin.fetcher,
    ...options,
  });
  return { ...t, edge, origin };
}

const get = (path: string, headers: HeadersInit = {}, method = "GET") =>
  new Request(`http://edge.test${path}`, { method, headers });

Deno.test("a hit on virtual time: Age from the clock, client 304, HEAD without body", async () => {
  const { node, clock, edge, origin } = await edgeOn(
    {},
    () =>
      new Response("body", { headers: { "cache-control": "max-age=60", etag: '"e1"', age: "3" } }),
  );
  try {
    const miss = await edge.fetch(get("/a?x=1"));
    assert.deepEqual([miss.headers.get("x-cache"), await miss.text()], ["MISS", "body"]);
    clock.advance(5000);
    const hit = await edge.fetch(get("/a?x=1"));
    assert.deepEqual([hit.headers.get("x-cache"), hit.headers.get("age")], ["HIT", "8"]);
    assert.equal(await hit.text(), "body");
    // HITs in the same second are clones of one answer: each has the whole body; Age moves on.
    const again = await edge.fetch(get("/a?x=1"));
    assert.deepEqual([await again.text(), again.headers.get("age")], ["body", "8"]);
    clock.advance(1000);
    assert.equal((await edge.fetch(get("/a?x=1"))).headers.get("age"), "9");
    const cond = await edge.fetch(get("/a?x=1", { "if-none-match": '"e1"' }));
    assert.deepEqual([cond.status, cond.body], [304, null]);
    const head = await edge.fetch(get("/a?x=1", {}, "HEAD"));
    assert.deepEqual([head.status, head.body, head.headers.get("content-length")], [
      200,
      null,
      "4",
    ]);
    // Another query is another URL; the stored entry is tagged for purge by URL.
    await (await edge.fetch(get("/a?x=2"))).body?.cancel();
    assert.equal(origin.calls(), 2);
    assert.ok(node.get("edge:/a?x=1")?.tags?.includes(urlTagOf("http://any.host/a?x=1")));
    assert.equal(edge.stats.hits, 5);
  } finally {
    await node.close();
  }
});

Deno.test("50 concurrent misses here: one origin call; Set-Cookie answers are not shared", async () => {
  const { node, edge, origin } = await edgeOn({}, (req) => {
    const cookie = new URL(req.url).pathname === "/me";
    return new Response("x", {
      headers: { "cache-control": "max-age=60", ...(cookie ? { "set-cookie": "sid=1" } : {}) },
    });
  });
  try {
    const release = origin.hold();
    const waiting = Array.from({ length: 50 }, () => edge.fetch(get("/hot")));
    release();
    const answers = await Promise.all(waiting);
    assert.equal(origin.calls(), 1);
    assert.ok(answers.every((a) => a.status === 200));
    await Promise.all(answers.map((a) => a.text()));
    assert.equal(edge.stats.coalescedWaiters, 49);

    const release2 = origin.hold();
    const me = [edge.fetch(get("/me")), edge.fetch(get("/me"))];
    release2();
    const mine = await Promise.all(me);
    // The waiter did not get the first request's cookie: it asked the origin itself.
    assert.equal(origin.calls(), 3);
    assert.deepEqual(mine.map((r) => r.headers.get("set-cookie")), ["sid=1", "sid=1"]);
    await Promise.all(mine.map((r) => r.body?.cancel()));
  } finally {
    await node.close();
  }
});

Deno.test("the primary answers a peer's miss; an unreachable primary means fetching here", async () => {
  const peer = { name: "p", host: "127.0.0.1", httpPort: 1 };
  let asked = 0;
  const { node, edge, origin } = await edgeOn({
    primaryOf: () => peer,
    askPeer: () => {
      asked++;
      return Promise.reject(new Error("connection refused"));
    },
  }, () => new Response("here", { headers: { "cache-control": "max-age=60" } }));
  try {
    const res = await edge.fetch(get("/p"));
    assert.deepEqual([await res.text(), asked, origin.calls()], ["here", 1, 1]);
    assert.equal(edge.stats.primaryFallbacks, 1);
    // As a primary: a peer's ask is answered from the cache, marked as an edge answer.
    const answer = await edge.answerPeer(
      new TextEncoder().encode(JSON.stringify({ target: "/p", head: false, headers: [] })),
    );
    assert.deepEqual(
      [answer.headers.get("x-cache"), answer.headers.get(EDGE_ANSWER_HEADER), await answer.text()],
      ["HIT", "1", "here"],
    );
    await assert.rejects(() => edge.answerPeer(new TextEncoder().encode("{")), TypeError);
    await assert.rejects(
      () => edge.answerPeer(new TextEncoder().encode('{"target":"x","head":1}')),
      TypeError,
    );
  } finally {
    await node.close();
  }
});

Deno.test("origin failures: 502 or 504 with JSON; malformed Cache-Control is ignored", async () => {
  const t = await startTestNode();
  const failing = new EdgeCache({
    service: t.node,
    origin: ORIGIN,
    fetch: () => Promise.reject(new TypeError("connection refused")),
  });
  const slow = new EdgeCache({
    service: t.node,
    origin: ORIGIN,
    originTimeoutMs: 20,
    fetch: (_input, init) =>
      new Promise((_, reject) =>
        init?.signal?.addEventListener("abort", () => reject(new Error("aborted")))
      ),
  });
  try {
    const down = await failing.fetch(get("/x"));
    assert.equal(down.status, 502);
    assert.match((await down.json()).error, /Origin unreachable: connection refused/);
    const late = await slow.fetch(get("/y"));
    assert.equal(late.status, 504);
    assert.match((await late.json()).error, /within 20 ms/);
    const other = await edgeOn(
      {},
      () => new Response("m", { headers: { "cache-control": "max-age=60,,=" } }),
    );
    try {
      await (await other.edge.fetch(get("/m"))).text();
      await (await other.edge.fetch(get("/m"))).text();
      assert.equal(other.origin.calls(), 2);
    } finally {
      await other.node.close();
    }
  } finally {
    await t.node.close();
  }
});

Deno.test("a gzip answer of a real origin is stored and served decoded, without Content-Encoding", async () => {
  const text = "hello ".repeat(50);
  const gz = new Uint8Array(
    await new Response(
      new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response(gz, {
        headers: {
          "content-encoding": "gzip",
          "cache-control": "max-age=60",
          vary: "Accept-Encoding",
        },
      }),
  );
  const t = await startTestNode();
  try {
    const edge = new EdgeCache({ service: t.node, origin: `http://127.0.0.1:${server.addr.port}` });
    for (const xCache of ["MISS", "HIT"]) {
      const res = await edge.fetch(get("/z", { "accept-encoding": "gzip" }));
      assert.deepEqual(
        [res.headers.get("x-cache"), res.headers.get("content-encoding"), await res.text()],
        [xCache, null, text],
      );
    }
  } finally {
    await t.node.close();
    await server.shutdown();
  }
});

Deno.test("a 304 refreshes the entry with its freshness and keeps its tags", async () => {
  const { node, clock, edge, origin } = await edgeOn(
    {},
    (req) =>
      req.headers.get("if-none-match") === '"v"'
        ? new Response(null, {
          status: 304,
          headers: { "cache-control": "max-age=100", etag: '"v"' },
        })
        : new Response("v", {
          headers: { "cache-control": "max-age=1", etag: '"v"', "cache-tag": "t" },
        }),
  );
  try {
    await (await edge.fetch(get("/r"))).text();
    clock.advance(2000);
    const refreshed = await edge.fetch(get("/r"));
    assert.deepEqual([refreshed.headers.get("x-cache"), await refreshed.text()], [
      "REVALIDATED",
      "v",
    ]);
    clock.advance(50_000);
    const hit = await edge.fetch(get("/r"));
    assert.deepEqual([hit.headers.get("x-cache"), hit.headers.get("cache-control")], [
      "HIT",
      "max-age=100",
    ]);
    await hit.body?.cancel();
    assert.equal(origin.calls(), 2);
    assert.ok(node.get("edge:/r")?.tags?.includes("t"));
    assert.equal(edge.stats.revalidated, 1);
  } finally {
    await node.close();
  }
});
