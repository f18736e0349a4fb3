import assert from "node:assert/strict";
import { systemClock, VirtualClock } from "../util/clock.ts";
import { SeededRandom } from "../util/random.ts";
import { MemoryNetwork, type MemoryNetworkOptions, type PacketEvent } from "./memory_network.ts";
import type { MemoryTransport } from "./memory_transport.ts";
import { runFor } from "./testing.ts";
import type { Packet, StreamConn } from "./transport.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function setup(options: MemoryNetworkOptions = {}, names = ["a", "b", "c"]) {
  const clock = new VirtualClock(0);
  const network = new MemoryNetwork({ clock, logger: () => {}, ...options });
  const nodes: MemoryTransport[] = [];
  const inbox = new Map<string, Packet[]>();
  names.forEach((name, i) => {
    const t = network.attach(`10.0.0.${i + 1}:7946`);
    inbox.set(name, []);
    t.onPacket((p) => inbox.get(name)!.push(p));
    nodes.push(t);
  });
  const text = (name: string) => inbox.get(name)!.map((p) => decoder.decode(p.data));
  return { clock, network, nodes, inbox, text };
}

async function readText(conn: StreamConn): Promise<string | null> {
  const buf = new Uint8Array(256);
  const n = await conn.read(buf);
  return n === null ? null : decoder.decode(buf.subarray(0, n));
}

Deno.test("MemoryNetwork delivers packets after the latency, with a copy of the bytes", async () => {
  const { clock, nodes: [a, b], inbox, text } = setup({ latencyMs: 10 });
  const data = encoder.encode("ping");
  assert.equal(await a.sendPacket(b.localAddress, data), true);
  data[0] = 0; // the sender may reuse its buffer
  await runFor(clock, 9);
  assert.deepEqual(text("b"), []);
  await runFor(clock, 1);
  assert.deepEqual(text("b"), ["ping"]);
  assert.deepEqual(inbox.get("b")![0].from, { host: "10.0.0.1", port: 7946 });
  assert.equal(inbox.get("b")![0].receivedAt, 10);
  assert.deepEqual([a.stats.packetsOut, a.stats.bytesOut, b.stats.packetsIn, b.stats.bytesIn], [
    1,
    4,
    1,
    4,
  ]);
});

Deno.test("MemoryNetwork applies jitter within bounds", async () => {
  const { clock, network, nodes: [a, b], inbox } = setup({ latencyMs: 5, jitterMs: 10 });
  for (let i = 0; i < 200; i++) await a.sendPacket(b.localAddress, new Uint8Array([i]));
  await runFor(clock, 20, 0.5);
  const times = inbox.get("b")!.map((p) => p.receivedAt);
  assert.equal(times.length, 200);
  assert.ok(times.every((t) => t >= 5 && t < 15.5));
  assert.ok(new Set(times).size > 10, "jitter spreads arrivals");
  assert.equal(network.stats.packetsDelivered, 200);
});

Deno.test("MemoryNetwork loses packets at the configured rate", async () => {
  const { clock, network, nodes: [a, b, c], inbox } = setup({
    loss: 0.2,
    random: new SeededRandom(42),
  });
  network.setLink(a.localAddress, c.localAddress, { loss: 0.5 });
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    await a.sendPacket(b.localAddress, new Uint8Array([1]));
    await a.sendPacket(c.localAddress, new Uint8Array([1]));
  }
  await runFor(clock, 1);
  const toB = inbox.get("b")!.length / n, toC = inbox.get("c")!.length / n;
  assert.ok(Math.abs(toB - 0.8) < 0.015, `delivered to b: ${toB}`);
  assert.ok(Math.abs(toC - 0.5) < 0.015, `delivered to c: ${toC}`);
  assert.equal(network.stats.dropped.loss, 2 * n - inbox.get("b")!.length - inbox.get("c")!.length);
  network.setNodeConditions(b.localAddress, { loss: 1 });
  await c.sendPacket(b.localAddress, new Uint8Array([1]));
  await runFor(clock, 1);
  assert.equal(inbox.get("b")!.length / n, toB);
  assert.throws(
    () => network.setLink("a:1", "b:1", { loss: 2 }),
    /loss must be in 0\.\.1: received 2/,
  );
});

Deno.test("MemoryNetwork.partition cuts packets and dials until healed", async () => {
  const { clock, network, nodes: [a, b, c], text } = setup({ latencyMs: 2 });
  const undo = network.partition([a.localAddress], [b.localAddress, "10.0.0.3:7946"]);
  await a.sendPacket(b.localAddress, encoder.encode("x"));
  await b.sendPacket(c.localAddress, encoder.encode("b->c"));
  const dial = a.dialStream(b.localAddress, 500);
  const rejected = assert.rejects(dial, Deno.errors.TimedOut);
  await runFor(clock, 499);
  assert.deepEqual([text("b"), text("c")], [[], ["b->c"]]);
  await runFor(clock, 1);
  await rejected;
  assert.equal(network.stats.dropped.partition, 1);
  undo();
  const isolated = network.isolate(c.localAddress);
  await a.sendPacket(b.localAddress, encoder.encode("healed"));
  await b.sendPacket(c.localAddress, encoder.encode("to isolated"));
  b.onStream((conn) => conn.close());
  const conn = a.dialStream(b.localAddress, 500);
  await runFor(clock, 4);
  (await conn).close();
  assert.deepEqual([text("b"), text("c")], [["healed"], ["b->c"]]);
  isolated();
  network.isolate(c.localAddress);
  network.heal();
  await b.sendPacket(c.localAddress, encoder.encode("all healed"));
  await runFor(clock, 2);
  assert.deepEqual(text("c"), ["b->c", "all healed"]);
  assert.equal(a.stats.dialFailures, 1);
});

Deno.test("MemoryNetwork stalls stream bytes across a partition and resumes after heal", async () => {
  const { clock, network, nodes: [a, b] } = setup({ latencyMs: 5, streamRetryMs: 100 });
  let server: StreamConn | undefined;
  b.onStream((conn) => server = conn);
  const dial = a.dialStream(b.localAddress, 1000);
  await runFor(clock, 10);
  const client = await dial;
  assert.deepEqual(client.remote, b.localAddress);
  assert.deepEqual(server!.remote, a.localAddress);
  network.partition([a.localAddress], [b.localAddress]);
  await client.write(encoder.encode("one"));
  const read = readText(server!);
  await runFor(clock, 1000);
  network.heal();
  await runFor(clock, 99);
  let got: string | null | undefined;
  read.then((text) => got = text);
  await runFor(clock, 1);
  assert.equal(got, "one"); // at the first retry after the heal
  client.close();
  server!.close();
});

Deno.test("MemoryStreamConn carries data both ways and ends with EOF on close", async () => {
  const { clock, nodes: [a, b] } = setup({ latencyMs: 3 });
  b.onStream(async (conn) => {
    const text = await readText(conn);
    await conn.write(encoder.encode(`pong:${text}`));
    assert.equal(await conn.read(new Uint8Array(8)), null); // the dialer's close
    conn.close();
  });
  const dial = a.dialStream(b.localAddress, 100);
  await runFor(clock, 6);
  const conn = await dial;
  assert.equal(clock.now(), 6); // one round trip
  await conn.write(encoder.encode("ping"));
  const reply = readText(conn);
  await runFor(clock, 6);
  assert.equal(await reply, "pong:ping");
  const pending = conn.read(new Uint8Array(8));
  conn.close();
  conn.close();
  assert.equal(await pending, null);
  await assert.rejects(conn.write(encoder.encode("late")), Deno.errors.BadResource);
  await runFor(clock, 10);
  assert.deepEqual([a.stats.streamsOut, b.stats.streamsIn], [1, 1]);
});

Deno.test("MemoryNetwork.kill refuses dials, drops packets and ends streams", async () => {
  const { clock, network, nodes: [a, b], text } = setup({ latencyMs: 2 });
  let server: StreamConn | undefined;
  b.onStream((conn) => server = conn);
  const dial = a.dialStream(b.localAddress, 100);
  await runFor(clock, 4);
  const client = await dial;
  const eof = client.read(new Uint8Array(8));
  assert.equal(network.kill(b.localAddress), true);
  assert.equal(b.state, "down");
  assert.equal(await server!.read(new Uint8Array(8)), null);
  await runFor(clock, 2);
  assert.equal(await eof, null);
  assert.equal(await b.sendPacket(a.localAddress, new Uint8Array([1])), false);
  await assert.rejects(b.dialStream(a.localAddress, 100), Deno.errors.BadResource);
  await a.sendPacket(b.localAddress, new Uint8Array([1]));
  const refused = assert.rejects(a.dialStream(b.localAddress, 100), Deno.errors.ConnectionRefused);
  await runFor(clock, 4);
  await refused;
  assert.equal(network.stats.dropped.unreachable, 1);
  const restarted = network.attach(b.localAddress); // same address, new process
  restarted.onPacket(() => {});
  await a.sendPacket(restarted.localAddress, encoder.encode("hi"));
  await runFor(clock, 2);
  assert.equal(restarted.stats.packetsIn, 1);
  assert.deepEqual(text("b"), []);
  assert.throws(() => network.attach(b.localAddress), Deno.errors.AddrInUse);
});

Deno.test("MemoryNetwork.pause holds a node's traffic, streams and timers until resume", async () => {
  const { clock, network, nodes: [a, b], inbox, text } = setup({
    latencyMs: 1,
    pausedQueueBytes: 10,
  });
  const fired: number[] = [];
  b.clock.setTimeout(() => fired.push(clock.now()), 50);
  const cancelled = b.clock.setTimeout(() => fired.push(-1), 60);
  let accepted = 0;
  b.onStream((conn) => {
    accepted++;
    conn.close();
  });
  network.pause(b.localAddress);
  await a.sendPacket(b.localAddress, encoder.encode("12345"));
  await a.sendPacket(b.localAddress, encoder.encode("67890"));
  await a.sendPacket(b.localAddress, encoder.encode("overflow"));
  await b.sendPacket(a.localAddress, encoder.encode("held"));
  const dial = a.dialStream(b.localAddress, 1000);
  await runFor(clock, 100);
  const conn = await dial; // the kernel accepts while the process is stopped
  const eof = conn.read(new Uint8Array(8));
  b.clock.clearTimeout(cancelled); // cancellation also applies to a timer held by the pause
  assert.deepEqual([text("b"), text("a"), accepted, fired], [[], [], 0, []]);
  assert.equal(network.stats.dropped["queue-full"], 1);
  network.resume(b.localAddress);
  await runFor(clock, 3);
  assert.deepEqual(text("b"), ["12345", "67890"]);
  assert.equal(inbox.get("b")![0].receivedAt, 100);
  assert.deepEqual([text("a"), accepted, fired], [["held"], 1, [100]]);
  assert.equal(await eof, null);
});

Deno.test("MemoryTransport.close ends streams and dials and is idempotent", async () => {
  const { clock, network, nodes: [a, b, c] } = setup({ latencyMs: 1 });
  b.onStream(() => {});
  network.partition([a.localAddress], [c.localAddress]);
  const dial = a.dialStream(b.localAddress, 100);
  await runFor(clock, 2);
  const conn = await dial;
  const pendingRead = conn.read(new Uint8Array(4));
  const pendingDial = a.dialStream(c.localAddress, 100);
  await Promise.all([a.close(), a.close()]);
  await a.close();
  assert.equal(await pendingRead, null);
  await assert.rejects(pendingDial, Deno.errors.BadResource);
  assert.equal(await a.sendPacket(b.localAddress, new Uint8Array([1])), false);
  assert.equal(network.size, 2);
  assert.ok(network.attach(a.localAddress)); // the address is free again
});

Deno.test("MemoryNetwork taps see every packet and can drop some", async () => {
  const { clock, network, nodes: [a, b], text } = setup({ latencyMs: 4 });
  const seen: PacketEvent[] = [];
  const untap = network.tap((event) => {
    seen.push(event);
    return decoder.decode(event.data) !== "drop me";
  });
  await a.sendPacket(b.localAddress, encoder.encode("keep"));
  await a.sendPacket(b.localAddress, encoder.encode("drop me"));
  untap();
  await a.sendPacket(b.localAddress, encoder.encode("unseen"));
  await runFor(clock, 4);
  assert.deepEqual(text("b"), ["keep", "unseen"]);
  assert.deepEqual(seen.map((e) => [e.dropped, e.deliverAt]), [[undefined, 4], ["filtered", 4]]);
  assert.equal(network.stats.dropped.filtered, 1);
});

Deno.test("MemoryNetwork runs on the system clock and close cancels deliveries", async () => {
  const network = new MemoryNetwork({ clock: systemClock, latencyMs: 1 });
  const a = network.attach("127.0.0.1:0"), b = network.attach("127.0.0.1:0");
  assert.notEqual(a.localAddress.port, b.localAddress.port);
  const got = new Promise<Packet>((resolve) => b.onPacket(resolve));
  await a.sendPacket(b.localAddress, encoder.encode("real"));
  assert.equal(decoder.decode((await got).data), "real");
  await a.sendPacket(b.localAddress, encoder.encode("never"));
  void a.dialStream(b.localAddress, 10_000).catch(() => {});
  await network.close();
  await network.close();
  assert.throws(() => network.attach("127.0.0.1:1"), Deno.errors.BadResource);
});

Deno.test("MemoryTransport drops what a socket would: empty, oversized, unhandled", async () => {
  const { clock, network, nodes: [a, b, c] } = setup({ maxPacketSize: 100 });
  assert.equal(await a.sendPacket(b.localAddress, new Uint8Array(101)), false);
  assert.equal(a.stats.errors, 1);
  await a.sendPacket(b.localAddress, new Uint8Array(0));
  const quiet = network.attach("10.0.0.9:7946"); // no handlers at all
  await a.sendPacket(quiet.localAddress, new Uint8Array(1));
  c.onStream(() => {
    throw new Error("handler bug");
  });
  const refusedByHandler = a.dialStream(quiet.localAddress, 50);
  const thrown = a.dialStream(c.localAddress, 50);
  await runFor(clock, 1);
  assert.equal(await (await refusedByHandler).read(new Uint8Array(1)), null);
  assert.equal(await (await thrown).read(new Uint8Array(1)), null);
  assert.deepEqual([b.stats.packetsDropped, quiet.stats.packetsDropped, c.stats.errors], [1, 1, 1]);
});
