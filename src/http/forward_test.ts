import assert from "node:assert/strict";
import type { Partitioning } from "../replication/partitioning.ts";
import { Placement } from "../replication/placement.ts";
import { ReplicatorCluster } from "../replication/testing.ts";
import type { CacheEntryView, ForwardStats } from "../service/mod.ts";
import { FORWARDED_HEADER, RequestForwarder } from "./forward.ts";

/** Each node of `c` behind a forwarder, with `GET /cache/{key}` as `cache_routes.ts` serves it. */
function edges(c: ReplicatorCluster) {
  const names = [...c.nodes.keys()];
  const stats = new Map<string, ForwardStats>();
  const forwarders = new Map<string, RequestForwarder>();
  const serve = (name: string, req: Request): Promise<Response> | Response => {
    const node = c.nodes.get(name)!;
    const key = new URL(req.url).pathname.slice("/cache/".length);
    const respond = (entry: CacheEntryView | undefined) =>
      entry === undefined
        ? new Response("Not Found", { status: 404 })
        : new Response(entry.value as string);
    const local = () => node.store.get(key);
    const forwarder = forwarders.get(name)!;
    const owners = forwarder.route(req, key);
    return owners ? forwarder.read(req, key, owners, local, respond) : respond(local());
  };
  for (const name of names) {
    const replicator = c.nodes.get(name)!.replicator;
    const s = { reads: 0, writes: 0, failures: 0, readRepairs: 0 };
    stats.set(name, s);
    forwarders.set(
      name,
      new RequestForwarder({
        self: name,
        timeoutMs: 500,
        stats: s,
        ownersOf: (key) => replicator.ownersOf(key),
        // Peers are "mem" hosts; the HTTP port names the node (see `get`).
        fetchPeer: async (url, init) => {
          const port = Number(new URL(url).port);
          return await serve(names[port - 1], new Request(url, init));
        },
        readFrom: (peer, key) => replicator.readFrom(peer, key),
        repair: (key, entry, peers, self) => replicator.readRepair(key, entry, peers, self),
      }),
    );
  }
  const get = async (name: string, key: string, headers: Record<string, string> = {}) => {
    const res = await serve(name, new Request(`http://mem/cache/${key}`, { headers }));
    return `${res.status} ${await res.text()}`;
  };
  return { get, stats };
}

/** Five started nodes with 2 copies per key; HTTP ports are their index + 1 (see `edges`). */
function fiveNodes(): { c: ReplicatorCluster; names: string[] } {
  const c = new ReplicatorCluster(2, 256);
  const names = ["n1", "n2", "n3", "n4", "n5"];
  for (const name of names) c.add(name);
  for (const [a, x] of c.nodes) {
    for (const [i, b] of names.entries()) {
      if (a !== b) x.replicator.peerUp({ name: b, host: "mem", httpPort: i + 1 });
    }
  }
  for (const n of c.nodes.values()) n.replicator.start();
  return { c, names };
}

Deno.test("a read at a node whose view lacks a key's holders is routed by a peer that sees them", async () => {
  const { c, names } = fiveNodes();
  try {
    const placement = (c.nodes.get("n1")!.replicator.distribution as Partitioning).placement;
    const bucketOf = (k: string) => c.nodes.get("n1")!.store.bucketOf(k);
    // A key n5 does not own, written on its owners.
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`)
      .find((k) => !placement.owns("n5", bucketOf(k)))!;
    const holders = placement.owners(bucketOf(key));
    await c.write(holders[0], key, "v1", "all");
    const { get, stats } = edges(c);
    assert.equal(await get("n5", key), "200 v1");

    // n5 declares both holders gone (it missed their return, or a gossip round): they are alive
    // and everybody else still sees them as the key's owners.
    for (const h of holders) c.nodes.get("n5")!.replicator.peerDown(h);
    const seen = c.nodes.get("n5")!.replicator.ownersOf(key);
    assert.equal(seen.moved, true);
    assert.deepEqual(
      [...seen.peers, ...seen.former].filter((p) => holders.includes(p.name)),
      [],
      "n5 can name none of the holders",
    );
    assert.equal(await get("n5", key), "200 v1");
    assert.ok(stats.get("n5")!.reads >= 2);
    // A routed read is routed once only, and a forwarded one is served where it lands.
    const other = names.find((n) => n !== "n5" && !holders.includes(n))!;
    assert.equal(await get(other, key, { [FORWARDED_HEADER]: "n5" }), "404 Not Found");
    // A key nobody holds is still a miss.
    assert.equal(await get("n5", "never-written"), "404 Not Found");
  } finally {
    c.close();
  }
});

Deno.test("a read that every owner misses right after a change asks the other members too", async () => {
  const { c, names } = fiveNodes();
  try {
    const reader = c.nodes.get("n1")!;
    const placement = (reader.replicator.distribution as Partitioning).placement;
    const bucketOf = (k: string) => reader.store.bucketOf(k);
    // A key n1 owns with another owner; which node would share it without that owner.
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`)
      .find((k) => placement.owns("n1", bucketOf(k)))!;
    const other = placement.owners(bucketOf(key)).find((n) => n !== "n1")!;
    const without = new Placement(names.filter((n) => n !== other), 2, 256);
    const heir = without.owners(bucketOf(key)).find((n) => n !== "n1")!;
    const holder = names.find((n) => n !== "n1" && n !== other && n !== heir)!;
    const { get } = edges(c);
    assert.equal(await get("n1", key), "404 Not Found");
    // n1 saw `other` leave and come back; `other` is now out of reach (stopping), so is the
    // member that shared the key meanwhile, n1 has not got the key yet, and a member n1 never
    // counted among the owners holds it (from a hand-over).
    reader.replicator.peerDown(other);
    reader.replicator.peerUp({ name: other, host: "mem", httpPort: names.indexOf(other) + 1 });
    c.net.unregister(other);
    c.net.partition.split(["n1", holder], [heir]);
    const record = { value: "v1", expiresAt: 0, version: c.nodes.get(holder)!.hlc.version(holder) };
    c.nodes.get(holder)!.store.apply(key, record);
    assert.equal(await get("n1", key), "200 v1");
  } finally {
    c.close();
  }
});

Deno.test("a node that no longer owns a key serves its own copy when the owners miss it", async () => {
  // Seen in a rolling restart: the reader held the key from a hand-over (it owned the bucket
  // while an owner was down); that owner is back but empty, the other is stopping, and the
  // returning owner has not seen the reader yet.
  const { c } = fiveNodes();
  try {
    const placement = (c.nodes.get("n1")!.replicator.distribution as Partitioning).placement;
    const bucketOf = (k: string) => c.nodes.get("n1")!.store.bucketOf(k);
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`)
      .find((k) => !placement.owns("n5", bucketOf(k)))!;
    const [empty, stopping] = placement.owners(bucketOf(key));
    const reader = c.nodes.get("n5")!;
    reader.store.apply(key, { value: "v1", expiresAt: 0, version: reader.hlc.version("n5") });
    c.net.unregister(stopping);
    c.nodes.get(empty)!.replicator.peerDown("n5");
    const { get, stats } = edges(c);
    assert.equal(await get("n5", key), "200 v1");
    assert.equal(stats.get("n5")!.readRepairs, 1, "the owner that missed it is repaired");
  } finally {
    c.close();
  }
});
