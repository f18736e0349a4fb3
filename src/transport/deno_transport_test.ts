import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { DenoTransport, type DenoTransportOptions } from "./deno_transport.ts";
import type { TransportLogLevel } from "./logger.ts";
import type { Address, Packet, StreamConn } from "./transport.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function listen(options: DenoTransportOptions = {}): DenoTransport {
  return DenoTransport.listen({ hostname: "127.0.0.1", port: 0, logger: () => {}, ...options });
}

/** Polls on real time: these tests do real I/O. */
async function waitFor(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function readAll(conn: StreamConn): Promise<string> {
  const buf = new Uint8Array(1024);
  let text = "";
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) return text;
    text += decoder.decode(buf.subarray(0, n));
  }
}

Deno.test("DenoTransport.listen binds UDP and TCP on the same port", async () => {
  await using t = listen();
  assert.equal(t.localAddress.host, "127.0.0.1");
  assert.ok(t.localAddress.port > 0);
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port: t.localAddress.port });
  tcp.close();
  const packets: Packet[] = [];
  t.onPacket((p) => packets.push(p));
  const udp = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  await udp.send(new Uint8Array([1]), {
    transport: "udp",
    hostname: "127.0.0.1",
    port: t.localAddress.port,
  });
  await waitFor(() => packets.length === 1);
  udp.close();
});

Deno.test("DenoTransport.listen reports a taken port and bad options", async () => {
  await using a = listen();
  assert.throws(() => listen({ port: a.localAddress.port }), Deno.errors.AddrInUse);
  assert.throws(() => listen({ maxPacketSize: 0 }), RangeError);
  assert.throws(
    () => listen({ port: 70000 }),
    /port must be an integer in 0..65535: received 70000/,
  );
  const advertised = listen({ advertise: { host: "10.1.2.3", port: 7946 } });
  assert.deepEqual(advertised.localAddress, { host: "10.1.2.3", port: 7946 });
  await advertised.close();
});

Deno.test("DenoTransport sends packets both ways from its listening port", async () => {
  const clock = new VirtualClock(5_000);
  await using a = listen({ clock });
  await using b = listen({ clock });
  const atA: Packet[] = [], atB: Packet[] = [];
  a.onPacket((p) => atA.push(p));
  b.onPacket((p) => atB.push(p));
  assert.equal(await a.sendPacket(b.localAddress, encoder.encode("ping")), true);
  await waitFor(() => atB.length === 1);
  assert.equal(await b.sendPacket(atB[0].from, encoder.encode("ack")), true);
  await waitFor(() => atA.length === 1);
  assert.deepEqual(atB[0].from, a.localAddress);
  assert.deepEqual(atA[0].from, b.localAddress);
  assert.equal(decoder.decode(atB[0].data), "ping");
  assert.equal(decoder.decode(atA[0].data), "ack");
  assert.equal(atA[0].receivedAt, 5_000);
  assert.deepEqual(
    [a.stats.packetsOut, a.stats.bytesOut, a.stats.packetsIn, a.stats.bytesIn],
    [1, 4, 1, 3],
  );
});

Deno.test("DenoTransport exchanges streams both ways", async () => {
  await using a = listen();
  await using b = listen();
  for (const [dialer, listener] of [[a, b], [b, a]]) {
    listener.onStream(async (conn) => {
      const buf = new Uint8Array(64);
      const n = await conn.read(buf);
      await conn.write(encoder.encode(`pong:${decoder.decode(buf.subarray(0, n!))}`));
      conn.close();
    });
    const conn = await dialer.dialStream(listener.localAddress, 1000);
    assert.equal(conn.remote.port, listener.localAddress.port);
    await conn.write(encoder.encode("ping"));
    assert.equal(await readAll(conn), "pong:ping");
    conn.close();
  }
  assert.deepEqual([a.stats.streamsOut, a.stats.streamsIn], [1, 1]);
  assert.deepEqual([b.stats.streamsOut, b.stats.streamsIn], [1, 1]);
});

Deno.test("DenoTransport survives a garbage flood", async () => {
  const logged: TransportLogLevel[] = [];
  await using t = listen({ maxPacketSize: 512, logger: (level) => logged.push(level) });
  const good: Packet[] = [];
  t.onPacket((p) => {
    if (p.data[0] === 0xff) throw new Error("cannot decode");
    good.push(p);
  });
  t.onStream((conn) => conn.close());
  const flood = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const to = { transport: "udp" as const, hostname: "127.0.0.1", port: t.localAddress.port };
  for (let i = 0; i < 300; i++) {
    const kind = i % 3;
    const size = kind === 0 ? 0 : kind === 1 ? 513 + i : 1 + (i % 100);
    const data = crypto.getRandomValues(new Uint8Array(size));
    if (kind === 2) data[0] = 0xff;
    await flood.send(data, to);
    // Pace the flood: a burst larger than the kernel's receive buffer (no SO_RCVBUF in Deno)
    // would be dropped by the kernel, which is not what this test counts.
    if (i % 30 === 29) await waitFor(() => t.stats.packetsIn + t.stats.packetsDropped === i + 1);
  }
  for (let i = 0; i < 20; i++) {
    (await Deno.connect({ hostname: "127.0.0.1", port: to.port })).close();
  }
  await flood.send(encoder.encode("still alive"), to);
  await waitFor(() => good.length === 1);
  flood.close();
  assert.equal(decoder.decode(good[0].data), "still alive");
  assert.equal(t.stats.packetsDropped, 200);
  assert.equal(t.stats.errors, 100);
  assert.equal(t.stats.packetsIn, 101);
  assert.equal(logged.filter((l) => l === "error").length, 100);
  await waitFor(() => t.stats.streamsIn === 20);
});

/** Fills a listener's accept queue so further SYNs are dropped: a local black hole. */
async function blackhole(): Promise<{ address: Address; close(): void }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const port = listener.addr.port;
  // The queue is full once connects hang; two in a row, so that one slowed by a busy machine
  // is not taken for it.
  let hung = 0;
  for (let i = 0; i < 8192 && hung < 2; i++) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 250);
    try {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port, signal: abort.signal }));
      hung = 0;
    } catch {
      hung++;
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    address: { host: "127.0.0.1", port },
    close() {
      for (const conn of conns) conn.close();
      listener.close();
    },
  };
}

Deno.test("DenoTransport.dialStream times out on a black hole and fails fast when refused", async () => {
  await using t = listen();
  const hole = await blackhole();
  try {
    const started = Date.now();
    await assert.rejects(t.dialStream(hole.address, 150), Deno.errors.TimedOut);
    const took = Date.now() - started;
    assert.ok(took >= 140 && took < 1000, `took ${took} ms`);
  } finally {
    hole.close();
  }
  const closed = listen();
  const refusedAt = closed.localAddress;
  await closed.close();
  await assert.rejects(t.dialStream(refusedAt, 1000), Deno.errors.ConnectionRefused);
  assert.equal(t.stats.dialFailures, 2);
});

Deno.test("DenoTransport.close is idempotent and ends streams, dials and loops", async () => {
  const a = listen();
  const b = listen();
  let accepted: StreamConn | undefined;
  a.onPacket(() => {});
  b.onStream((conn) => accepted = conn);
  const dialed = await a.dialStream(b.localAddress, 1000);
  await waitFor(() => accepted !== undefined);
  const pendingRead = dialed.read(new Uint8Array(8));
  const acceptedRead = accepted!.read(new Uint8Array(8));
  const hole = await blackhole();
  const pendingDial = a.dialStream(hole.address, 60_000);
  await Promise.all([a.close(), a.close(), b.close()]);
  await a.close();
  hole.close();
  assert.equal(await pendingRead, null);
  assert.equal(await acceptedRead, null);
  await assert.rejects(pendingDial, Deno.errors.BadResource);
  await assert.rejects(dialed.write(new Uint8Array(1)), Deno.errors.BadResource);
  assert.equal(await a.sendPacket(b.localAddress, new Uint8Array(1)), false);
  await assert.rejects(a.dialStream(b.localAddress, 100), Deno.errors.BadResource);
});
