import assert from "node:assert/strict";
import { createLogger } from "../util/log.ts";
import { VirtualClock } from "../util/clock.ts";
import type { Address } from "../transport/transport.ts";
import { type DnsEntry, type DnsResolver, PeerDiscovery } from "./discovery.ts";

/** A resolver over mutable records; a name without records rejects, as DNS answers NXDOMAIN. */
function fakeDns() {
  const a = new Map<string, string[]>();
  const aaaa = new Map<string, string[]>();
  const srv = new Map<string, { target: string; port: number }[]>();
  const answer = <T>(records: T[] | undefined, name: string) =>
    records && records.length > 0
      ? Promise.resolve(records)
      : Promise.reject(new Error(`no records for ${name}`));
  const resolver: DnsResolver = {
    addresses: (name, type) => answer((type === "A" ? a : aaaa).get(name), name),
    srv: (name) => answer(srv.get(name), name),
  };
  return { a, aaaa, srv, resolver };
}

function setup(
  entries: DnsEntry[],
  dns: ReturnType<typeof fakeDns>,
  recordTypes?: ("A" | "AAAA")[],
) {
  const clock = new VirtualClock(0);
  const lines: string[] = [];
  const members = new Set<string>();
  const joins: string[][] = [];
  const discovery = new PeerDiscovery({
    entries,
    resolver: dns.resolver,
    refreshMs: 30_000,
    clock,
    log: createLogger({ write: (l) => lines.push(l), now: () => clock.now() }),
    isMember: (a: Address) => members.has(`${a.host}:${a.port}`),
    join: (addresses) => {
      const names = addresses.map((a) => `${a.host}:${a.port}`);
      joins.push(names);
      for (const n of names) members.add(n);
      return Promise.resolve(addresses.length);
    },
    recordTypes,
  });
  // Timers fire on advance; each round's lookups settle in a few microtask turns.
  const advance = async (ms: number) => {
    clock.advance(ms);
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return { discovery, lines, members, joins, advance };
}

Deno.test("PeerDiscovery joins every A/AAAA address at start, then only new ones on refresh", async () => {
  const dns = fakeDns();
  dns.a.set("cache.svc", ["10.0.0.1", "10.0.0.2"]);
  dns.aaaa.set("cache.svc", ["fd00::3"]);
  const { discovery, joins, members, advance } = setup(
    [{ kind: "dns", name: "cache.svc", port: 7946 }],
    dns,
  );
  members.add("10.0.0.1:7946"); // this node itself
  discovery.start();
  await advance(0);
  assert.deepEqual(joins, [["10.0.0.2:7946", "fd00::3:7946"]]);
  dns.a.set("cache.svc", ["10.0.0.1", "10.0.0.2", "10.0.0.4"]);
  await advance(29_000);
  assert.equal(joins.length, 1, "no lookup before the refresh period");
  await advance(1_000);
  assert.deepEqual(joins[1], ["10.0.0.4:7946"]);
  await advance(30_000);
  assert.equal(joins.length, 2, "nothing new, nothing joined");
  assert.equal(discovery.addresses?.length, 4);
  discovery.stop();
});

Deno.test("PeerDiscovery follows SRV records to their targets and ports", async () => {
  const dns = fakeDns();
  dns.srv.set("_gossip._udp.cache", [
    { target: "n1.cache.", port: 7001 },
    { target: "n2.cache.", port: 7002 },
  ]);
  dns.a.set("n1.cache.", ["127.0.0.1"]);
  dns.a.set("n2.cache.", ["127.0.0.1"]);
  const { discovery, joins, advance } = setup([{ kind: "srv", name: "_gossip._udp.cache" }], dns);
  discovery.start();
  await advance(0);
  assert.deepEqual(joins, [["127.0.0.1:7001", "127.0.0.1:7002"]]);
  discovery.stop();
});

Deno.test("PeerDiscovery logs a failed resolution and retries sooner, doubling, not fatal", async () => {
  const dns = fakeDns();
  const { discovery, joins, lines, advance } = setup(
    [{ kind: "dns", name: "late.svc", port: 7946 }],
    dns,
  );
  discovery.start();
  await advance(0);
  assert.equal(joins.length, 0);
  assert.match(lines.join("\n"), /WARN {2}Cannot discover peers by DNS .*late\.svc/);
  await advance(1_000); // retry 1 after 1 s
  await advance(2_000); // retry 2 after 2 s
  assert.equal(lines.filter((l) => l.includes("Cannot discover")).length, 3);
  dns.a.set("late.svc", ["10.0.0.7"]);
  await advance(3_999);
  assert.equal(joins.length, 0, "retry 3 comes 4 s after retry 2");
  await advance(1);
  assert.deepEqual(joins, [["10.0.0.7:7946"]]);
  assert.match(
    lines.at(-1)!,
    /INFO {2}joined discovered peers addresses=10\.0\.0\.7:7946 answered=1/,
  );
  discovery.stop();
});

Deno.test("PeerDiscovery asks only for the record types of its own address family", async () => {
  const dns = fakeDns();
  dns.a.set("cache.svc", ["10.0.0.1"]);
  dns.aaaa.set("cache.svc", ["fd00::1"]);
  const { discovery, joins, advance } = setup(
    [{ kind: "dns", name: "cache.svc", port: 7946 }],
    dns,
    ["A"],
  );
  discovery.start();
  await advance(0);
  assert.deepEqual(joins, [["10.0.0.1:7946"]]);
  discovery.stop();
});
