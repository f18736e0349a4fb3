import assert from "node:assert/strict";
import { encodeUint16Base64 } from "../util/base64.ts";
import { hashLane1 } from "../util/hash.ts";
import { CacheClient, Topology, UnavailableError } from "./mod.ts";
import { neverReached } from "./_failure.ts";

const BUCKETS = 16;
const NAMES = ["a", "b", "c"];
const url = (name: string) => `http://${name}.test:8000`;

/** A topology document: bucket b owned by members (b % 3, (b + 1) % 3). */
function topologyDoc(replicas = 2) {
  const owners = new Uint16Array(BUCKETS * 2);
  for (let b = 0; b < BUCKETS; b++) [owners[2 * b], owners[2 * b + 1]] = [b % 3, (b + 1) % 3];
  return {
    self: "a",
    replicas,
    buckets: BUCKETS,
    members: NAMES.map((name) => ({ name, host: `${name}.test`, httpPort: 8000 })),
    perBucket: 2,
    owners: encodeUint16Base64(owners),
  };
}

/** A fake cluster behind `fetch`: `answer` decides each request's fate; requests are logged. */
function fakeFetch(answer: (node: string, path: string, init?: RequestInit) => Response) {
  const log: string[] = [];
  const f = (input: string | URL | Request, init?: RequestInit) => {
    const u = new URL(String(input));
    const node = u.hostname.split(".")[0];
    log.push(`${init?.method ?? "GET"} ${node} ${u.pathname}`);
    if (u.pathname === "/cluster/topology") return Promise.resolve(Response.json(topologyDoc()));
    try {
      return Promise.resolve(answer(node, u.pathname, init));
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return { fetch: f as typeof fetch, log };
}

function connectionRefused(): Error {
  return new TypeError("fetch failed", {
    cause: Object.assign(new Error("refused"), { code: "ECONNREFUSED" }),
  });
}

function connectionReset(): Error {
  return new TypeError("error sending request: connection closed before message completed");
}

/** A key whose bucket's first owner is member `owner` (index into NAMES). */
function keyOwnedBy(owner: number): string {
  for (let i = 0;; i++) {
    if ((hashLane1(`k${i}`) & (BUCKETS - 1)) % 3 === owner) return `k${i}`;
  }
}

Deno.test("Topology maps a key to the owners of its bucket and refuses a malformed document", () => {
  const t = new Topology(topologyDoc(), "https:");
  const key = keyOwnedBy(1);
  assert.deepEqual(t.ownersOf(key).map((m) => m.name), ["b", "c"]);
  assert.equal(t.ownersOf(key)[0].url, "https://b.test:8000");
  assert.equal(t.partitioned, true);
  assert.throws(() => new Topology({ ...topologyDoc(), buckets: 12 }, "http:"), TypeError);
  assert.throws(
    () => new Topology({ ...topologyDoc(), owners: "AAAAAA" }, "http:"),
    /owners length/,
  );
  assert.throws(() => new Topology({ ...topologyDoc(), owners: "AAAA" }, "http:"), TypeError);
  assert.throws(() => new Topology({ ...topologyDoc(), owners: "!!" }, "http:"), TypeError);
  assert.throws(() => new Topology({ ...topologyDoc(), members: [] }, "http:"), /members/);
  const v6 = new Topology(
    { ...topologyDoc(), members: NAMES.map((name) => ({ name, host: "::1", httpPort: 1 })) },
    "http:",
  );
  assert.equal(v6.members[0].url, "http://[::1]:1");
});

Deno.test("neverReached tells a refused connection from one that broke (Deno and Node shapes)", () => {
  assert.equal(neverReached(connectionRefused()), true);
  assert.equal(
    neverReached(new TypeError("client error (Connect): tcp connect error: Connection refused")),
    true,
  );
  assert.equal(neverReached(connectionReset()), false);
  assert.equal(neverReached(new TypeError("Failed to fetch")), false);
});

Deno.test("CacheClient sends a key's read to its first owner, and on to the second when it is down", async () => {
  const key = keyOwnedBy(2);
  const { fetch, log } = fakeFetch((node) => {
    if (node === "c") throw connectionRefused();
    return new Response("v", { headers: { "content-type": "text/plain" } });
  });
  await using client = new CacheClient({ nodes: [url("a")], fetch, random: () => 0 });
  assert.equal(await client.get(key), "v");
  const reads = log.filter((l) => l.includes("/cache/"));
  assert.deepEqual(reads, [`GET c /cache/${key}`, `GET a /cache/${key}`]);
  // c is skipped for a while: the next read goes straight to a.
  assert.equal(await client.get(key), "v");
  assert.equal(log.filter((l) => l.includes("/cache/")).at(-1), `GET a /cache/${key}`);
});

Deno.test("CacheClient retries incr only when it never reached a node or got a 503", async () => {
  const key = keyOwnedBy(0);
  for (const fate of ["refused", "503", "reset"] as const) {
    const { fetch, log } = fakeFetch((node) => {
      if (node !== "a") return Response.json({ value: 7 });
      if (fate === "refused") throw connectionRefused();
      if (fate === "503") return Response.json({ error: "not ready" }, { status: 503 });
      throw connectionReset();
    });
    await using client = new CacheClient({ nodes: [url("b")], fetch, random: () => 0 });
    const incr = client.incr(key);
    const expected = [`POST a /cache/${key}/incr`];
    if (fate === "reset") {
      await assert.rejects(incr, (err) => {
        assert.ok(err instanceof UnavailableError);
        assert.match(err.message, /may have been applied/);
        return true;
      });
    } else {
      assert.equal(await incr, 7, fate);
      expected.push(`POST b /cache/${key}/incr`);
    }
    assert.deepEqual(log.filter((l) => l.includes("/incr")), expected, fate);
    assert.equal(client.stats().retried.length, 1, fate);
  }
});

Deno.test("CacheClient refreshes its view when X-Served-By names another node", async () => {
  const key = keyOwnedBy(1);
  const { fetch } = fakeFetch(() =>
    new Response("OK", { headers: { "x-served-by": "c", "content-type": "text/plain" } })
  );
  await using client = new CacheClient({ nodes: [url("a")], fetch, random: () => 0 });
  await client.set(key, "v");
  assert.equal(client.stats().servedElsewhere, 1);
  await new Promise((r) => setTimeout(r, 300));
  await client.set(key, "v");
  await client.refresh();
  assert.ok(client.stats().refreshes >= 2, `refreshes ${client.stats().refreshes}`);
});
