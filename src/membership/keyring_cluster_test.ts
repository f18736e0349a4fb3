// Engines on the in-memory network with the real keyring (WebCrypto AES-GCM): an encrypted
// cluster, intruders without the key, key rotation in a running cluster, and the plaintext →
// encrypted migration through gossipVerifyIncoming/Outgoing.
import assert from "node:assert/strict";
import { encodeMessage, encodePacket, encodePushPull, MessageType } from "./codec/mod.ts";
import { lanConfig } from "./config.ts";
import { Keyring, keyringEncryption } from "./keyring.ts";
import type { MembershipEncryption } from "./memberlist.ts";
import { TestCluster, type TestNodeOptions } from "./testing/cluster.ts";
import { settle } from "../transport/mod.ts";

const K1 = new Uint8Array(16).fill(1);
const K2 = new Uint8Array(32).fill(2);
const K3 = new Uint8Array(24).fill(3);
const utf8 = (s: string) => new TextEncoder().encode(s);
const config = lanConfig({ pushPullInterval: 2_000 });

/**
 * Drives a {@link TestCluster}'s virtual clock like its own `run`/`until`, but only moves time
 * once every WebCrypto operation has finished: they complete on another thread many event-loop
 * turns later, so settling microtasks is not enough, and time would otherwise jump past
 * timeouts while a packet is still being sealed.
 */
class CryptoDriver {
  readonly #pending = new Set<Promise<unknown>>();
  /** Hook calls so far. */
  readonly calls = { packetSeals: 0, packetOpens: 0, streamSeals: 0, streamOpens: 0 };

  /** The same hooks, tracked. */
  wrap(enc: MembershipEncryption): MembershipEncryption {
    const track = <A extends unknown[]>(
      counter: keyof CryptoDriver["calls"],
      fn: (...args: A) => Promise<Uint8Array>,
    ) =>
    (...args: A) => {
      this.calls[counter]++;
      const p = fn(...args);
      this.#pending.add(p);
      p.then(() => this.#pending.delete(p), () => this.#pending.delete(p));
      return p;
    };
    return {
      encryptPacket: track("packetSeals", enc.encryptPacket),
      decryptPacket: track("packetOpens", enc.decryptPacket),
      streamSealer: {
        sealedLength: enc.streamSealer.sealedLength,
        seal: track("streamSeals", enc.streamSealer.seal),
      },
      decryptStream: track("streamOpens", enc.decryptStream),
      packetOverhead: enc.packetOverhead,
    };
  }

  /** Runs the clock for `ms` in steps of at least 1 ms, idle time skipped. */
  async run(c: TestCluster, ms: number): Promise<void> {
    const end = c.clock.now() + ms;
    await this.#quiesce();
    while (c.clock.now() < end) {
      const next = c.clock.nextDueAt() ?? end;
      c.clock.advanceTo(Math.min(end, Math.max(next, c.clock.now() + 1)));
      await this.#quiesce();
    }
  }

  /** Runs until `predicate` holds; resolves the virtual ms it took, or `undefined`. */
  async until(
    c: TestCluster,
    predicate: () => boolean,
    maxMs: number,
  ): Promise<number | undefined> {
    const start = c.clock.now();
    for (;;) {
      if (predicate()) return c.clock.now() - start;
      if (c.clock.now() - start >= maxMs) return undefined;
      await this.run(c, 10);
    }
  }

  /** Runs the clock until `promise` settles (at most `maxMs`), and returns its value. */
  async drive<T>(c: TestCluster, promise: Promise<T>, maxMs = 30_000): Promise<T> {
    let done = false;
    promise.then(() => (done = true), () => (done = true));
    await this.until(c, () => done, maxMs);
    return await promise;
  }

  async #quiesce(): Promise<void> {
    await settle();
    while (this.#pending.size > 0) {
      await Promise.allSettled([...this.#pending]);
      await settle();
    }
  }
}

function keyed(driver: CryptoDriver, ring: Keyring, extra: TestNodeOptions = {}): TestNodeOptions {
  return { ...extra, options: { encryption: driver.wrap(keyringEncryption(ring)) } };
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** Asserts no engine ever suspected anyone, dropped a packet or failed a stream. */
function assertNothingLost(c: TestCluster): void {
  for (const n of c.nodes.values()) {
    const s = n.ml.stats;
    assert.equal(s.suspicions, 0, `${n.name} suspected someone`);
    assert.equal(s.packetsDropped, 0, `${n.name} dropped ${JSON.stringify(s.dropped)}`);
    assert.deepEqual(s.streamErrors, {}, n.name);
    assert.equal(s.pushPullFailures, 0, n.name);
    assert.deepEqual(n.events.filter((e) => e.type === "leave" && e.member.state !== "left"), []);
  }
}

Deno.test("Memberlist with the same key on every node forms an encrypted cluster", async () => {
  const d = new CryptoDriver();
  const c = new TestCluster({ seed: 51, config });
  const packets: Uint8Array[] = [];
  c.net.tap((e) => void packets.push(e.data.slice()));
  await c.start(["node-0"], keyed(d, new Keyring([K1])));
  for (const name of ["node-1", "node-2", "node-3"]) {
    await c.start([name], keyed(d, new Keyring([K1]), { seeds: ["node-0"] }));
  }
  assert.notEqual(await d.until(c, () => c.allSee("alive"), 10_000), undefined);
  await d.run(c, 6_000);
  // User messages both ways, by packet and by stream.
  assert.ok(await d.drive(c, c.node("node-1").ml.sendBestEffort("node-2", utf8("by udp"))));
  await d.drive(c, c.node("node-3").ml.sendReliable("node-0", utf8("by tcp")));
  await d.run(c, 500);
  assert.deepEqual(c.node("node-2").messages, [utf8("by udp")]);
  assert.deepEqual(c.node("node-0").messages, [utf8("by tcp")]);
  // Every datagram is a version-1 frame, and no node name shows through.
  assert.ok(packets.length > 40, `${packets.length} packets`);
  assert.deepEqual([...new Set(packets.map((p) => p[0]))], [1]);
  assert.equal(packets.filter((p) => contains(p, utf8("node-"))).length, 0);
  // Streams were sealed and opened too (joins, push/pull every 2 s, the reliable message).
  assert.ok(d.calls.streamSeals >= 10 && d.calls.streamOpens >= 10, JSON.stringify(d.calls));
  const pushPulls = [...c.nodes.values()].reduce((n, x) => n + x.ml.stats.pushPullsIn, 0);
  assert.ok(pushPulls >= 8, `push/pulls: ${pushPulls}`);
  assertNothingLost(c);
  await c.close();
});

Deno.test("Memberlist with a key ignores nodes without it or with another, and their packets", async () => {
  const d = new CryptoDriver();
  const c = new TestCluster({ seed: 52, config });
  const secure = ["s0", "s1", "s2"];
  await c.start(["s0"], keyed(d, new Keyring([K1])));
  await c.start(["s1", "s2"], keyed(d, new Keyring([K1]), { seeds: ["s0"] }));
  assert.notEqual(await d.until(c, () => c.allSee("alive"), 10_000), undefined);
  await d.run(c, 3_000);
  const snapshot = () =>
    secure.map((o) =>
      c.node(o).ml.members().map((m) => `${m.name}:${m.state}:${m.incarnation}`).sort()
    );
  const before = snapshot();
  // Intruders: one without a key, one with another key (a bigger one: AES-256), joining s0.
  const [plain] = await c.start(["plain"], { seeds: ["s0"] });
  const [wrong] = await c.start(["wrong"], keyed(d, new Keyring([K2]), { seeds: ["s0"] }));
  // Forged packets and a forged push/pull, plaintext and sealed with the wrong key.
  const attacker = c.net.attach({ host: "10.9.9.9", port: 7946 });
  const forged = [
    encodeMessage(MessageType.dead, { incarnation: 99, node: "s1", from: "plain" }),
    encodeMessage(MessageType.suspect, { incarnation: 99, node: "s2", from: "plain" }),
    encodeMessage(MessageType.alive, {
      incarnation: 1,
      node: "ghost",
      addr: new Uint8Array([10, 9, 9, 9]),
      port: 7946,
      meta: null,
      vsn: new Uint8Array([1, 5, 2, 0, 0, 0]),
    }),
  ];
  const wrongKey = keyringEncryption(new Keyring([K2]));
  const ghost = {
    name: "ghost",
    addr: new Uint8Array([10, 9, 9, 9]),
    port: 7946,
    meta: null,
    incarnation: 1,
    state: 0,
    vsn: new Uint8Array([1, 5, 2, 0, 0, 0]),
  };
  for (const target of secure.map((n) => c.node(n).address)) {
    for (const encrypt of [undefined, wrongKey.encryptPacket]) {
      const packet = await encodePacket(forged, { compress: false, crc: false, encrypt });
      assert.ok(await attacker.sendPacket(target, packet));
      for (const msg of forged) {
        await attacker.sendPacket(
          target,
          await encodePacket([msg], { compress: true, crc: true, encrypt }),
        );
      }
      const conn = await d.drive(c, attacker.dialStream(target, 1_000));
      const pushPull = await encodePushPull({ join: true }, [ghost], new Uint8Array(0), {
        compress: true,
        encrypt: encrypt && wrongKey.streamSealer,
      });
      await d.drive(c, conn.write(pushPull));
    }
  }
  await d.run(c, 15_000);
  assert.deepEqual(snapshot(), before);
  for (const name of secure) {
    const s = c.node(name).ml.stats;
    assert.equal(c.node(name).ml.member("ghost"), undefined);
    assert.ok((s.dropped.decrypt ?? 0) >= 8, `${name}: ${JSON.stringify(s.dropped)}`);
    assert.ok((s.streamErrors.decrypt ?? 0) >= 2, `${name}: ${JSON.stringify(s.streamErrors)}`);
  }
  // The intruders never got in: each still knows only itself.
  assert.deepEqual([plain.ml.numMembers(), wrong.ml.numMembers()], [1, 1]);
  await attacker.close();
  await c.close();
});

Deno.test("Keyring rotation (add everywhere, use everywhere, remove everywhere) loses no member", async () => {
  const d = new CryptoDriver();
  const c = new TestCluster({ seed: 53, config });
  const names = ["r0", "r1", "r2"];
  const rings = new Map(names.map((n) => [n, new Keyring([K1])]));
  for (const n of names) {
    // Each its own ring, as separate processes have.
    await c.start([n], keyed(d, rings.get(n)!, { seeds: n === "r0" ? [] : ["r0"] }));
  }
  assert.notEqual(await d.until(c, () => c.allSee("alive"), 10_000), undefined);
  let sent: Uint8Array[] = [];
  c.net.tap((e) => void sent.push(e.data.slice()));
  /** Share of the datagrams sent since the last `take()` that `key` alone opens. */
  const share = async (packets: Uint8Array[], key: Uint8Array) => {
    const ring = new Keyring([key]);
    const opened = await Promise.all(
      packets.map((p) => ring.decrypt(p, new Uint8Array(0)).then(() => 1, () => 0)),
    );
    return opened.reduce<number>((a, b) => a + b, 0) / packets.length;
  };
  const take = () => [sent, sent = []][0];
  /** Runs `ms` in 100 ms slices, asserting every node sees every node alive after each. */
  const watch = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      await d.run(c, 100);
      assert.ok(c.allSee("alive"), `a member was lost at ${c.now} ms`);
    }
  };
  await watch(3_000);
  take();
  for (const n of names) {
    rings.get(n)!.addKey(K2);
    await watch(1_500);
  }
  assert.equal(await share(take(), K1), 1, "adding a key must not change what is sent");
  for (const n of names) {
    rings.get(n)!.useKey(K2);
    await watch(1_500);
  }
  // While primaries were switched one node at a time, both keys were in use.
  const mixed = take();
  const [byK1, byK2] = [await share(mixed, K1), await share(mixed, K2)];
  assert.ok(byK1 > 0 && byK2 > 0 && byK1 + byK2 === 1, `K1 ${byK1}, K2 ${byK2}`);
  await watch(2_000);
  assert.equal(await share(take(), K2), 1, "after useKey everywhere, everything is sent with K2");
  for (const n of names) {
    rings.get(n)!.removeKey(K1);
    await watch(1_500);
  }
  await watch(5_000);
  assert.equal(await share(take(), K2), 1);
  assert.deepEqual(names.map((n) => rings.get(n)!.keys()), [[K2], [K2], [K2]]);
  assertNothingLost(c);
  // The old key no longer gets anyone in; the new one does.
  const [stale] = await c.start(["stale"], keyed(d, new Keyring([K1]), { seeds: ["r0"] }));
  await c.start(["fresh"], keyed(d, new Keyring([K2]), { seeds: ["r0"] }));
  const joined = [...names, "fresh"];
  assert.notEqual(await d.until(c, () => c.allSee("alive", joined, joined), 10_000), undefined);
  assert.equal(stale.ml.numMembers(), 1);
  await c.close();
});

Deno.test("Keyring rotation out of order (use before every node added the key) cuts a node off", async () => {
  // The control for the test above: the same cluster notices when a rotation is done wrong.
  const d = new CryptoDriver();
  const c = new TestCluster({ seed: 54, config });
  const hasty = new Keyring([K1]);
  await c.start(["h0"], keyed(d, new Keyring([K1])));
  await c.start(["h1"], keyed(d, new Keyring([K1]), { seeds: ["h0"] }));
  await c.start(["h2"], keyed(d, hasty, { seeds: ["h0"] }));
  assert.notEqual(await d.until(c, () => c.allSee("alive"), 10_000), undefined);
  hasty.addKey(K3);
  hasty.useKey(K3);
  const cutOff = () =>
    ["h0", "h1"].every((o) => ["suspect", "dead"].includes(c.view(o, "h2")?.state ?? ""));
  assert.notEqual(await d.until(c, cutOff, 20_000), undefined);
  await c.close();
});

Deno.test("Memberlist migrates a live cluster from plaintext to encryption with gossipVerify* off", async () => {
  // Memberlist's procedure, done by replacing nodes: plaintext → key with both checks off →
  // verifyOutgoing on → verifyIncoming on. Each generation runs beside the previous one.
  const d = new CryptoDriver();
  const c = new TestCluster({ seed: 55, config });
  const generation = (prefix: string) => [0, 1, 2].map((i) => `${prefix}${i}`);
  const stages: [string, TestNodeOptions][] = [
    ["p", {}],
    [
      "a",
      keyed(d, new Keyring([K1]), {
        config: { gossipVerifyIncoming: false, gossipVerifyOutgoing: false },
      }),
    ],
    ["b", keyed(d, new Keyring([K1]), { config: { gossipVerifyIncoming: false } })],
    ["c", keyed(d, new Keyring([K1]))],
  ];
  const firstBytes = new Set<number>();
  c.net.tap((e) => void firstBytes.add(e.data[0]));
  let previous: string[] = [];
  for (const [prefix, options] of stages) {
    const names = generation(prefix);
    for (const name of names) {
      const seed = previous[0] ?? (name === names[0] ? undefined : names[0]);
      await c.start([name], { ...options, seeds: seed ? [seed] : [] });
    }
    const everyone = [...previous, ...names];
    assert.notEqual(
      await d.until(c, () => c.allSee("alive", everyone, everyone), 15_000),
      undefined,
      `generation ${prefix} did not join generation ${previous[0]?.[0]}`,
    );
    await d.run(c, 3_000);
    assert.ok(c.allSee("alive", everyone, everyone));
    for (const old of previous) {
      const node = c.node(old);
      assert.ok(await d.drive(c, node.ml.leave(5_000)));
      await node.ml.shutdown();
    }
    await d.run(c, 2_000);
    assert.ok(
      c.allSee("left", previous, names),
      `generation ${prefix} did not see its elders leave`,
    );
    firstBytes.clear();
    await d.run(c, 3_000);
    previous = names;
  }
  // The last generation sends only sealed frames.
  assert.deepEqual([...firstBytes], [1]);
  assertNothingLost(c);
  await c.close();
});
