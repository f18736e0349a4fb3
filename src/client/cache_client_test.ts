import assert from "node:assert/strict";
import { CacheNode } from "../node/cache_node.ts";
import { makeTestCertificates, waitFor } from "../../testing/mod.ts";
import {
  AuthError,
  CacheClient,
  NotACounterError,
  PreconditionFailedError,
  RequestError,
  TimeoutError,
  UnavailableError,
} from "./mod.ts";

/** A node with HTTP on a free port and no cluster; disposing it closes it. */
async function startNode(config: Record<string, unknown> = {}) {
  const node = new CacheNode({ nodeName: "solo", httpPort: 0, ...config });
  await node.start({ cluster: false });
  const url = `http://127.0.0.1:${node.httpAddress!.port}`;
  return { node, url, [Symbol.asyncDispose]: () => node.close() };
}

/** A URL nobody listens on (a port just released). */
function deadUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

Deno.test("CacheClient get/set/delete round trip text and bytes; a miss is undefined", async () => {
  await using n = await startNode();
  await using client = new CacheClient({ nodes: [n.url] });
  assert.equal(await client.get("nope"), undefined);
  await client.set("a b/c", "héllo");
  assert.equal(await client.get("a b/c"), "héllo");
  await client.set("bin", new Uint8Array([0, 1, 255]));
  assert.deepEqual(await client.get("bin"), new Uint8Array([0, 1, 255]));
  await client.delete("a b/c");
  assert.equal(await client.get("a b/c"), undefined);
  assert.equal(client.topology?.members.length, 1);
});

Deno.test("CacheClient getWithMeta gives etag, ttl, metadata and tags; ifMatch guards writes", async () => {
  await using n = await startNode();
  await using client = new CacheClient({ nodes: [n.url] });
  await client.set("k", "v1", { ttlMs: 60_000, metadata: { owner: "ann" }, tags: ["t1", "t2"] });
  const meta = await client.getWithMeta("k");
  assert.ok(meta);
  assert.equal(meta.value, "v1");
  assert.match(meta.etag, /^".+"$/);
  assert.ok(meta.ttlMs! > 50_000 && meta.ttlMs! <= 60_000, `ttl ${meta.ttlMs}`);
  assert.deepEqual(meta.metadata, { owner: "ann" });
  assert.deepEqual(meta.tags, ["t1", "t2"]);
  await client.set("k", "v2", { ifMatch: meta.etag });
  await assert.rejects(client.set("k", "v3", { ifMatch: meta.etag }), PreconditionFailedError);
  await assert.rejects(client.set("k", "v3", { ifNoneMatch: "*" }), PreconditionFailedError);
  await assert.rejects(client.delete("k", { ifMatch: meta.etag }), PreconditionFailedError);
  assert.equal(await client.get("k"), "v2");
});

Deno.test("CacheClient incr counts, and a non-integer value is a NotACounterError", async () => {
  await using n = await startNode();
  await using client = new CacheClient({ nodes: [n.url] });
  assert.equal(await client.incr("hits"), 1);
  assert.equal(await client.incr("hits", { by: 5 }), 6);
  await client.set("text", "abc");
  await assert.rejects(client.incr("text"), NotACounterError);
});

Deno.test("CacheClient batch, list pages and purge", async () => {
  await using n = await startNode();
  await using client = new CacheClient({ nodes: [n.url] });
  const results = await client.batch([
    { op: "put", key: "user:1", value: "ann", tags: ["users"] },
    { op: "put", key: "user:2", value: new Uint8Array([7]), tags: ["users"] },
    { op: "put", key: "user:3", value: "cid" },
    { op: "get", key: "user:1" },
    { op: "get", key: "user:2" },
    { op: "get", key: "missing" },
  ]);
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200, 404]);
  assert.equal(results[3].value, "ann");
  assert.deepEqual(results[4].value, new Uint8Array([7]));
  const pages = [];
  for await (const page of client.list({ prefix: "user:", limit: 2 })) pages.push(page);
  assert.deepEqual(pages.map((p) => p.keys.map((k) => k.name)), [["user:1", "user:2"], [
    "user:3",
  ]]);
  assert.equal(await client.purge({ tags: ["users"] }), 2);
  assert.equal(await client.get("user:1"), undefined);
  assert.equal(await client.get("user:3"), "cid");
});

Deno.test("CacheClient watch yields changes under the prefix until aborted", async () => {
  await using n = await startNode();
  await using client = new CacheClient({ nodes: [n.url] });
  const controller = new AbortController();
  const seen: string[] = [];
  const watching = (async () => {
    for await (const e of client.watch({ prefix: "w:", signal: controller.signal })) {
      seen.push(`${e.kind} ${e.key}`);
      if (seen.length === 2) controller.abort();
    }
  })();
  // The stream is open once a write under the prefix shows up; write until then.
  const deadline = Date.now() + 5_000;
  while (seen.length === 0 && Date.now() < deadline) {
    await client.set("other", "x");
    await client.set("w:1", "x");
    await new Promise((r) => setTimeout(r, 20));
  }
  await client.delete("w:1");
  await watching.catch((err) => assert.equal(err.name, "AbortError"));
  assert.ok(seen[0] === "put w:1", seen.join());
  assert.ok(seen.includes("delete w:1") || seen[1] === "put w:1", seen.join());
});

Deno.test("CacheClient sends the bearer token; a wrong one is an AuthError", async () => {
  await using n = await startNode({ authToken: "s3cret-token-0123456789" });
  await using good = new CacheClient({ nodes: [n.url], token: "s3cret-token-0123456789" });
  await good.set("k", "v");
  assert.equal(await good.get("k"), "v");
  await using bad = new CacheClient({ nodes: [n.url], token: "wrong" });
  await assert.rejects(bad.get("k"), AuthError);
});

Deno.test("CacheClient refuses bad input with a RequestError and bad options at once", async () => {
  await using n = await startNode();
  await using client = new CacheClient({ nodes: [n.url] });
  await assert.rejects(client.set("k", "v", { metadata: { big: "x".repeat(2000) } }), RequestError);
  await assert.rejects(client.get(""), TypeError);
  await assert.rejects(client.get("members"), /GET \/cache\/members is the member list/);
  assert.throws(() => new CacheClient({ nodes: [] }), TypeError);
  assert.throws(() => new CacheClient({ nodes: ["ftp://x"] }), TypeError);
  assert.throws(() => new CacheClient({ nodes: [n.url], retries: -1 }), RangeError);
});

Deno.test("CacheClient fails over from a dead seed and records the retried call", async () => {
  await using n = await startNode();
  const retries: string[] = [];
  await using client = new CacheClient({
    nodes: [deadUrl(), n.url],
    routing: "fixed",
    random: () => 0,
    onRetry: (e) => retries.push(`${e.op} ${e.attempt}`),
  });
  await client.set("k", "v"); // an unconditional write: retried, since it never reached a node
  assert.equal(await client.get("k"), "v");
  assert.deepEqual(retries, ["set 1"]);
  const stats = client.stats();
  assert.equal(stats.retried.length, 1);
  assert.equal(stats.retried[0].ok, true);
  assert.equal(stats.retried[0].attempts, 2);
});

Deno.test("CacheClient with no reachable node rejects with UnavailableError", async () => {
  await using client = new CacheClient({ nodes: [deadUrl()], retries: 2, timeoutMs: 2_000 });
  await assert.rejects(client.get("k"), UnavailableError);
  assert.equal(client.stats().failed, 1);
});

Deno.test("CacheClient: a hung node is a TimeoutError within the deadline; abort rejects at once", async () => {
  // Accepts connections and never answers.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  try {
    await using client = new CacheClient({ nodes: [url], routing: "fixed", retries: 1 });
    const started = Date.now();
    await assert.rejects(client.get("k", { timeoutMs: 300 }), TimeoutError);
    assert.ok(Date.now() - started < 2_000);
    const controller = new AbortController();
    const call = client.get("k", { timeoutMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 50);
    await assert.rejects(call, /stop/);
  } finally {
    listener.close();
    for (const c of held) c.close();
    await accepting.catch(() => {});
  }
});

Deno.test("CacheClient over TLS with a custom CA: the caller's fetch trusts it; the default one does not", async () => {
  const certs = await makeTestCertificates();
  try {
    const node = new CacheNode({
      nodeName: "tls",
      httpPort: 0,
      tlsCert: certs.cert,
      tlsKey: certs.key,
      tlsCa: certs.ca,
    });
    await node.start({ cluster: false });
    await using _ = { [Symbol.asyncDispose]: () => node.close() };
    const url = `https://127.0.0.1:${node.httpAddress!.port}`;
    const httpClient = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(certs.ca)] });
    try {
      await using client = new CacheClient({
        nodes: [url],
        fetch: (input, init) => fetch(input, { ...init, client: httpClient }),
      });
      await client.set("k", "secure");
      assert.equal(await client.get("k"), "secure");
      assert.equal(client.topology?.members[0].url.startsWith("https://"), true);
      await using untrusting = new CacheClient({ nodes: [url], retries: 0 });
      await assert.rejects(untrusting.get("k"), UnavailableError);
    } finally {
      httpClient.close();
    }
  } finally {
    await certs.remove();
  }
});

Deno.test("CacheClient watch moves to another node when its stream breaks and says so", async () => {
  // Node "a" stands in for a node that dies: one event, then the connection drops mid-stream.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(4096));
      const frame = `event: put\ndata: {"key":"on-a","version":"\\"1-a\\""}\n\n`;
      const head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n" +
        "transfer-encoding: chunked\r\n\r\n";
      const chunk = `${frame.length.toString(16)}\r\n${frame}\r\n`;
      await conn.write(new TextEncoder().encode(head + chunk));
      await new Promise((r) => setTimeout(r, 50));
      conn.close();
    }
  })().catch(() => {});
  const aUrl = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  await using b = await startNode({ nodeName: "b" });
  await using client = new CacheClient({ nodes: [aUrl, b.url], routing: "fixed", random: () => 0 });
  await using writer = new CacheClient({ nodes: [b.url], routing: "fixed" });
  const controller = new AbortController();
  const seen: string[] = [];
  const watching = (async () => {
    for await (const e of client.watch({ signal: controller.signal })) {
      seen.push(`${e.kind} ${e.key ?? "-"} ${e.node === aUrl ? "a" : "b"}`);
    }
  })().catch(() => {});
  try {
    await waitFor("the stream on b", async () => {
      await writer.set("on-b", "x");
      return seen.includes("put on-b b") || undefined;
    });
  } finally {
    controller.abort();
    await watching;
    listener.close();
    await serving;
  }
  assert.equal(seen[0], "put on-a a");
  assert.ok(seen.includes("reconnect - b"), seen.join(" | "));
  assert.ok(seen.indexOf("reconnect - b") < seen.indexOf("put on-b b"), seen.join(" | "));
});
