/**
 * Gossip encryption on real processes: nodes sharing SECRET_KEY form a cluster; a node with a
 * wrong key or no key cannot join it (and is not ready); a bad key stops the process with exit 2
 * without printing the key; with AUTH_TOKEN, nodes replicate with the token and requests without it
 * get 401 and change nothing; with SECRET_KEY alone, replication is signed with the key (rotation
 * included) and unsigned or wrongly signed internal requests get 401 and change nothing.
 */

import assert from "node:assert/strict";
import { encode } from "npm:@msgpack/msgpack@3.1.3";
import {
  clusterEnv,
  clusterView,
  FAST_GOSSIP,
  freePort,
  get,
  NodeProcess,
  put,
  startCluster,
  statsOf,
  waitAllAlive,
  waitFor,
  waitReady,
  waitSameDigest,
} from "../testing/mod.ts";
import { PeerAuth, SIGNATURE_HEADER } from "../src/replication/mod.ts";
import { systemClock } from "../src/util/clock.ts";

const b64 = (n: number) => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n))));
const GOSSIP = FAST_GOSSIP;

Deno.test("an encrypted cluster forms; wrong-key and keyless nodes stay out", async () => {
  const key = b64(32);
  const nodes = await startCluster("enc", 3, { ...GOSSIP, SECRET_KEY: key });
  const seed = `127.0.0.1:${nodes[0].gossipPort}`;
  const intruders: NodeProcess[] = [];
  try {
    await waitAllAlive(nodes);
    intruders.push(
      await NodeProcess.start({
        ...GOSSIP,
        NODE_NAME: "wrong-key",
        SECRET_KEY: b64(32),
        PEER: seed,
      }),
      await NodeProcess.start({ ...GOSSIP, NODE_NAME: "no-key", PEER: seed }),
    );
    // Give them several join attempts (1 s backoff and up) and gossip rounds.
    await new Promise((r) => setTimeout(r, 3000));
    for (const intruder of intruders) {
      assert.equal((await fetch(intruder.url("/readyz"))).status, 503);
      assert.deepEqual((await clusterView(intruder)).map((m) => m.name), [intruder.env.NODE_NAME]);
    }
    for (const node of nodes) {
      const names = (await clusterView(node)).map((m) => m.name).sort();
      assert.deepEqual(names, ["enc-0", "enc-1", "enc-2"]);
    }
    // Rotation, step 1: a node that already holds the next key (as a secondary: every key
    // decrypts, the first encrypts) joins the running cluster.
    const rotated = await NodeProcess.start({
      ...GOSSIP,
      NODE_NAME: "rotating",
      SECRET_KEYS: `${key},${b64(16)}`,
      PEER: seed,
    });
    intruders.push(rotated);
    await waitFor(
      "rotating node joined",
      async () => (await fetch(rotated.url("/readyz"))).status === 200 || undefined,
      15_000,
    );
  } finally {
    await Promise.all([...nodes, ...intruders].map((n) => n.stop()));
  }
});

Deno.test("a malformed SECRET_KEY exits 2 naming the variable, not the key", async () => {
  const bad = btoa("twenty bytes of key!");
  const node = await NodeProcess.start({ SECRET_KEY: bad }, { wait: false });
  const status = await node.status;
  await node.stop();
  assert.equal(status.code, 2);
  const text = node.logs.join("\n");
  assert.match(text, /SECRET_KEY must be base64 of 16, 24 or 32 bytes: received 20 bytes/);
  assert.ok(!text.includes(bad), "the key must not be printed");
});

const TOKEN = "e2e-token-0123456789abcdefABCDEF";
const authed = (headers: Record<string, string> = {}) => ({
  ...headers,
  authorization: `Bearer ${TOKEN}`,
});

async function authedStats(node: NodeProcess): Promise<{ store: { digest: string } }> {
  const res = await fetch(node.url("/stats"), { headers: authed() });
  if (res.status !== 200) throw new Error(`GET /stats: ${res.status}`);
  return await res.json();
}

async function authedPut(node: NodeProcess, key: string, value: string, token = TOKEN) {
  const res = await fetch(node.url(`/cache/${key}`), {
    method: "PUT",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      "x-write-acks": "all",
    },
    body: JSON.stringify({ value }),
  });
  return { status: res.status, body: await res.text() };
}

Deno.test("AUTH_TOKEN: nodes replicate with it; missing or wrong tokens get 401 and change nothing", async () => {
  // Node 0 replicates over the WebSocket channel, node 1 over HTTP POSTs: both carry the token.
  const seedPort = freePort();
  const env = { ...GOSSIP, AUTH_TOKEN: TOKEN, ANTI_ENTROPY_INTERVAL: "500ms", TOMBSTONE_TTL: "1m" };
  const a = await NodeProcess.start(clusterEnv("auth", 0, seedPort, env));
  const b = await NodeProcess.start(
    clusterEnv("auth", 1, seedPort, { ...env, REPLICATION_CHANNEL: "http" }),
  );
  const intruders: NodeProcess[] = [];
  try {
    for (const node of [a, b]) {
      await waitFor("ready", async () => {
        const res = await fetch(node.url("/readyz")); // open without the token
        await res.body?.cancel();
        return res.status === 200 || undefined;
      }, 20_000);
    }
    await waitFor("peered", async () => {
      const res = await authedPut(a, "probe", "1");
      return res.status === 200 || undefined;
    }, 20_000);
    assert.deepEqual(await authedPut(a, "from-a", "1"), { status: 200, body: "OK" });
    assert.deepEqual(await authedPut(b, "from-b", "2"), { status: 200, body: "OK" });
    const digest = (await authedStats(a)).store.digest;
    assert.equal((await authedStats(b)).store.digest, digest);
    // The dashboard (token in the query) shows the peer's summary: the node sent the token.
    const state = await (await fetch(a.url(`/dashboard/state?token=${TOKEN}`))).json();
    const peer = state.members.find((m: { name: string }) => m.name === "auth-1");
    assert.equal(peer?.summary?.keys, 3);

    const batch = encode([1, "evil", 1, ["evil"], [["from-a", "forged", 0, 2 ** 40, 0]]]);
    const attempts: [string, RequestInit][] = [
      ["/cache/from-a", { method: "GET" }],
      ["/cache/from-a", { method: "PUT", body: '{"value":"x"}' }],
      ["/cache/from-a", { method: "DELETE" }],
      ["/stats", {}],
      ["/metrics", {}],
      ["/cluster/members", {}],
      ["/dashboard/state", {}],
      ["/internal/replicate", { method: "POST", body: batch }],
      ["/internal/sync", { method: "POST", body: batch }],
      ["/internal/stream", { headers: { upgrade: "websocket" } }],
    ];
    for (const authorization of [undefined, "Bearer wrong-token-0123456789", TOKEN]) {
      for (const [path, init] of attempts) {
        const headers = new Headers(init.headers);
        headers.set(
          "content-type",
          path.startsWith("/internal") ? "application/msgpack" : "application/json",
        );
        if (authorization) headers.set("authorization", authorization);
        const res = await fetch(b.url(path), { ...init, headers });
        await res.body?.cancel();
        assert.equal(res.status, 401, `${init.method ?? "GET"} ${path} with ${authorization}`);
        assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer /);
      }
    }
    for (const path of ["/healthz", "/readyz"]) {
      const res = await fetch(b.url(path));
      await res.body?.cancel();
      assert.equal(res.status, 200, path);
    }

    // A node with another token joins the gossip (no SECRET_KEY here) but cannot push writes.
    const intruder = await NodeProcess.start(
      clusterEnv("auth", 2, seedPort, { ...env, AUTH_TOKEN: "another-token-0123456789" }),
    );
    intruders.push(intruder);
    await waitFor("intruder seen", async () => {
      const res = await fetch(a.url("/cluster/members"), { headers: authed() });
      const members: { name: string }[] = await res.json();
      return members.some((m) => m.name === "auth-2") || undefined;
    }, 20_000);
    const res = await fetch(intruder.url("/cache/from-a"), {
      method: "PUT",
      headers: { authorization: "Bearer another-token-0123456789", "content-type": "text/plain" },
      body: "overwritten",
    });
    assert.equal(res.status, 200, await res.text());
    // Several anti-entropy rounds and retries later, nothing reached the cluster.
    await new Promise((r) => setTimeout(r, 3000));
    for (const node of [a, b]) {
      assert.equal((await authedStats(node)).store.digest, digest);
      const value = await fetch(node.url("/cache/from-a"), { headers: authed() });
      assert.equal(await value.text(), "1");
    }
  } finally {
    await Promise.all([a, b, ...intruders].map((n) => n.stop()));
  }
});

Deno.test("SECRET_KEY alone authenticates replication: keyed nodes replicate, during rotation too; unsigned or wrongly signed requests get 401 and change nothing", async () => {
  const key = b64(32);
  const next = b64(16);
  const seedPort = freePort();
  const env = { ...GOSSIP, ANTI_ENTROPY_INTERVAL: "500ms", TOMBSTONE_TTL: "1m" };
  // Node 1 already sends with the next key (primary) and over HTTP POSTs; node 0 holds the next
  // key as a secondary and uses the WebSocket channel.
  const a = await NodeProcess.start(
    clusterEnv("keyed", 0, seedPort, { ...env, SECRET_KEYS: `${key},${next}` }),
  );
  const b = await NodeProcess.start(
    clusterEnv("keyed", 1, seedPort, {
      ...env,
      SECRET_KEYS: `${next},${key}`,
      REPLICATION_CHANNEL: "http",
    }),
  );
  const acked = { "x-write-acks": "all" };
  try {
    await waitReady([a, b]);
    await waitFor(
      "peered",
      async () => (await put(a, "probe", "1", acked)).status === 200 || undefined,
      20_000,
    );
    assert.deepEqual(await put(a, "from-a", "1", acked), { status: 200, body: "OK" });
    assert.deepEqual(await put(b, "from-b", "2", acked), { status: 200, body: "OK" });
    const digest = await waitSameDigest([a, b]);

    const batch = encode([1, "evil", 1, ["evil"], [["from-a", "forged", 0, 2 ** 40, 0]]]);
    const stranger = await PeerAuth.fromKeys([crypto.getRandomValues(new Uint8Array(32))], {
      clock: systemClock,
    });
    for (const node of [a, b]) {
      for (const path of ["/internal/replicate", "/internal/sync", "/internal/stream"]) {
        const stream = path === "/internal/stream";
        const method = stream ? "GET" : "POST";
        const signed = stranger.signRequest(method, path, stream ? undefined : batch)!;
        for (const signature of [undefined, signed.header, "v1 garbage"]) {
          const headers: Record<string, string> = stream
            ? {
              upgrade: "websocket",
              connection: "Upgrade",
              "sec-websocket-version": "13",
              "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
            }
            : { "content-type": "application/msgpack" };
          if (signature) headers[SIGNATURE_HEADER] = signature;
          const res = await fetch(node.url(path), {
            method,
            headers,
            body: stream ? undefined : batch,
          });
          const text = await res.text();
          assert.equal(res.status, 401, `${method} ${path} signed ${signature}: ${text}`);
          assert.match(res.headers.get("www-authenticate") ?? "", /^Cachenode-HMAC /);
        }
      }
    }
    // Several anti-entropy rounds later, nothing changed and replication still works.
    await new Promise((r) => setTimeout(r, 1500));
    for (const node of [a, b]) {
      assert.equal((await statsOf(node)).store.digest, digest);
      assert.equal(await get(node, "from-a"), "1");
    }
    assert.deepEqual(await put(b, "after", "3", acked), { status: 200, body: "OK" });
    assert.equal(await get(a, "after"), "3");
  } finally {
    await Promise.all([a, b].map((n) => n.stop()));
  }
});
