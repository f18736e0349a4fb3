// The engine seen from the wire: a raw peer on the in-memory network speaks memberlist's codec
// to one Memberlist node and checks what comes back, byte layer included.
import assert from "node:assert/strict";
import type { MemoryTransport } from "../transport/mod.ts";
import type { Packet } from "../transport/transport.ts";
import {
  decodePacket,
  encodeMessage,
  encodePacket,
  encodePushPull,
  encodeStreamMessage,
  MessageType,
  type PacketMessage,
  StreamReader,
} from "./codec/mod.ts";
import { lanConfig } from "./config.ts";
import { TestCluster, type TestNode } from "./testing/cluster.ts";

const RAW = { host: "10.0.9.1", port: 7946 };
const RAW_ADDR = Uint8Array.of(10, 0, 9, 1);

interface Rig {
  c: TestCluster;
  node: TestNode;
  raw: MemoryTransport;
  inbox: { packet: Packet; messages: PacketMessage[]; crc: boolean }[];
}

async function rig(config = lanConfig()): Promise<Rig> {
  const c = new TestCluster({ config });
  const [node] = await c.start(["node"]);
  const raw = c.net.attach(RAW);
  const inbox: Rig["inbox"] = [];
  raw.onPacket((packet) => {
    void decodePacket(packet.data, { maxDecompressed: 1 << 20, maxParts: 1000 }).then((r) => {
      if (r.ok) inbox.push({ packet, messages: r.messages, crc: packet.data[0] === 12 });
    });
  });
  return { c, node, raw, inbox };
}

const send = async (r: Rig, messages: Uint8Array[], crc = false) =>
  await r.raw.sendPacket(r.node.address, await encodePacket(messages, { compress: false, crc }));

function alive(pMax: number, port = RAW.port) {
  return encodeMessage(MessageType.alive, {
    incarnation: 1,
    node: "raw",
    addr: RAW_ADDR,
    port,
    meta: null,
    vsn: Uint8Array.of(1, pMax, 2, 0, 0, 0),
  });
}

const all = (r: Rig) => r.inbox.flatMap((p) => p.messages);

Deno.test("Memberlist answers a ping with an ack to SourceAddr:SourcePort, or to the source", async () => {
  const r = await rig();
  const elsewhere = r.c.net.attach("10.0.9.2:7000");
  const got: Packet[] = [];
  elsewhere.onPacket((p) => void got.push(p));
  await send(r, [encodeMessage(MessageType.ping, { seqNo: 41, node: "node" })]);
  await send(r, [encodeMessage(MessageType.ping, {
    seqNo: 42,
    node: "node",
    sourceAddr: Uint8Array.of(10, 0, 9, 2),
    sourcePort: 7000,
    sourceNode: "other",
  })]);
  await r.c.run(50);
  const acks = all(r).filter((m) => m.type === MessageType.ackResp);
  assert.deepEqual(acks.map((m) => m.body), [{ seqNo: 41, payload: null }]);
  assert.equal(got.length, 1);
  const relayed = await decodePacket(got[0].data, { maxDecompressed: 1 << 20, maxParts: 100 });
  assert.ok(relayed.ok && relayed.messages[0].type === MessageType.ackResp);
  assert.equal(relayed.messages[0].body.seqNo, 42);
  await r.c.close();
});

Deno.test("Memberlist drops a ping addressed to another node name", async () => {
  const r = await rig();
  await send(r, [encodeMessage(MessageType.ping, { seqNo: 1, node: "someone-else" })]);
  await r.c.run(50);
  assert.equal(all(r).length, 0);
  assert.equal(r.node.ml.stats.dropped["wrong-node"], 1);
  await r.c.close();
});

Deno.test("Memberlist relays an indirect ping's ack, and nacks when the target is silent", async () => {
  const r = await rig();
  const target = r.c.net.attach("10.0.9.3:7946");
  target.onPacket((p) => {
    void decodePacket(p.data, { maxDecompressed: 1 << 20, maxParts: 100 }).then(async (d) => {
      if (!d.ok || d.messages[0].type !== MessageType.ping) return;
      const ping = d.messages[0].body;
      assert.equal(ping.node, "target");
      assert.equal(ping.sourceNode, "node");
      const ack = encodeMessage(MessageType.ackResp, { seqNo: ping.seqNo, payload: null });
      await target.sendPacket(p.from, await encodePacket([ack], { compress: false, crc: false }));
    });
  });
  const request = (seqNo: number, host: number[], node: string) =>
    encodeMessage(MessageType.indirectPing, {
      seqNo,
      target: Uint8Array.from(host),
      port: 7946,
      node,
      nack: true,
      sourceAddr: RAW_ADDR,
      sourcePort: RAW.port,
      sourceNode: "raw",
    });
  await send(r, [request(500, [10, 0, 9, 3], "target")]);
  await send(r, [request(501, [10, 0, 9, 99], "ghost")]);
  await r.c.run(1_000);
  // Piggybacked gossip (the node's own alive) rides along; only acks and nacks matter here.
  const replies = all(r)
    .filter((m) => m.type === MessageType.ackResp || m.type === MessageType.nackResp)
    .map((m) => [m.type, (m.body as { seqNo: number }).seqNo]);
  assert.deepEqual(replies, [[MessageType.ackResp, 500], [MessageType.nackResp, 501]]);
  assert.equal(r.node.ml.stats.indirectPingsServed, 2);
  assert.equal(r.node.ml.stats.nacksOut, 1);
  await r.c.close();
});

Deno.test("Memberlist adds the CRC layer only for peers whose PMax is at least 5", async () => {
  for (const [pMax, crc] of [[5, true], [4, false]] as const) {
    const r = await rig(lanConfig({ enableCompression: false }));
    await send(r, [alive(pMax)]);
    await r.c.run(3_000);
    const pings = r.inbox.filter((p) => p.messages.some((m) => m.type === MessageType.ping));
    assert.ok(pings.length >= 1, `pMax ${pMax}: no probe arrived`);
    assert.ok(pings.every((p) => p.crc === crc), `pMax ${pMax}`);
    await r.c.close();
  }
});

Deno.test("Memberlist substitutes its bind port for port 0 in alive messages", async () => {
  const r = await rig();
  await send(r, [alive(5, 0)]);
  await r.c.run(10);
  assert.equal(r.node.ml.member("raw")?.address.port, 7946);
  await r.c.close();
});

Deno.test("Memberlist probes a suspect with a piggybacked suspect message (buddy system)", async () => {
  const r = await rig();
  await send(r, [alive(5)]);
  await send(r, [encodeMessage(MessageType.suspect, { incarnation: 1, node: "raw", from: "x" })]);
  await r.c.run(3_000);
  const buddy = r.inbox.find((p) =>
    p.messages[0]?.type === MessageType.ping && p.messages[1]?.type === MessageType.suspect
  );
  assert.ok(buddy, "no ping+suspect compound arrived");
  assert.deepEqual(buddy.messages[1].body, { incarnation: 1, node: "raw", from: "node" });
  await r.c.close();
});

Deno.test("Memberlist drops garbage packets, counts them and changes nothing", async () => {
  const r = await rig();
  const before = r.node.ml.allMembers();
  const garbage = [
    Uint8Array.of(),
    Uint8Array.of(0x42, 1, 2, 3),
    Uint8Array.of(MessageType.ping, 0x81, 0xa5),
    Uint8Array.of(MessageType.compound, 3, 0, 9),
    Uint8Array.of(12, 0, 0, 0, 0, MessageType.ping, 0x80),
    Uint8Array.of(0xf4, 4, 0x72, 0x65, 0x64, 0x21, 0),
    Uint8Array.of(MessageType.compress, 0x82, 0xa4, 0x41, 0x6c, 0x67, 0x6f, 0, 0xa3, 0x42, 0x75),
    Uint8Array.of(MessageType.alive, 0x81, 0xa4, 0x4e, 0x6f, 0x64, 0x65, 0x05),
    Uint8Array.of(MessageType.pushPull, 0x80),
  ];
  const seeded = new Uint8Array(64).map((_, i) => (i * 193 + 71) & 255);
  for (const g of [...garbage, seeded]) await r.raw.sendPacket(r.node.address, g);
  await r.c.run(100);
  const stats = r.node.ml.stats;
  assert.ok(stats.packetsDropped >= 8, JSON.stringify(stats));
  for (const reason of ["malformed", "unsupported-type", "crc", "label"]) {
    assert.ok((stats.dropped[reason] ?? 0) >= 1, `no ${reason} drop: ${JSON.stringify(stats)}`);
  }
  assert.deepEqual(r.node.ml.allMembers(), before);
  assert.equal(all(r).length, 0);
  await r.c.close();
});

Deno.test("Memberlist answers garbage streams with errResp or silence and changes nothing", async () => {
  const r = await rig();
  const before = r.node.ml.allMembers();
  const exchange = async (bytes: Uint8Array) => {
    const conn = await r.raw.dialStream(r.node.address, 1_000);
    await conn.write(bytes);
    const reader = new StreamReader(conn, { maxBytes: 1 << 20 });
    const reply = reader.readMessage().then((m) => m, (e) => e as Error);
    await r.c.run(200);
    conn.close();
    return await reply;
  };
  const run = <T>(p: Promise<T>) => Promise.all([p, r.c.run(20)]).then(([v]) => v);
  const malformed = await run(exchange(Uint8Array.of(MessageType.pushPull, 0xc1, 0xc1)));
  assert.ok(!(malformed instanceof Error) && malformed.type === MessageType.errResp);
  const unknown = await run(exchange(Uint8Array.of(0x42, 1, 2, 3)));
  assert.ok(unknown instanceof Error, "an unknown type must get no reply");
  const streamErrors = r.node.ml.stats.streamErrors;
  assert.equal(streamErrors.malformed, 1);
  assert.equal(streamErrors["unsupported-type"], 1);
  assert.deepEqual(r.node.ml.allMembers(), before);
  await r.c.close();
});

Deno.test("Memberlist answers a TCP ping and refuses a push/pull with incompatible versions", async () => {
  const r = await rig();
  const dialAndRead = async (bytes: Uint8Array) => {
    const conn = await r.raw.dialStream(r.node.address, 1_000);
    await conn.write(bytes);
    const message = await new StreamReader(conn, { maxBytes: 1 << 20 }).readMessage();
    conn.close();
    return message;
  };
  const ping = encodeMessage(MessageType.ping, { seqNo: 77, node: "node" });
  const [ack] = await Promise.all([
    dialAndRead(await encodeStreamMessage(ping, { compress: true })),
    r.c.run(50),
  ]);
  assert.deepEqual(ack, { type: MessageType.ackResp, body: { seqNo: 77, payload: null } });
  // A member speaking protocol 9 is outside every alive member's [pMin, pMax].
  const bad = await encodePushPull(
    { join: true },
    [{
      name: "raw",
      addr: RAW_ADDR,
      port: 7946,
      meta: null,
      incarnation: 1,
      state: 0,
      vsn: Uint8Array.of(1, 9, 9, 0, 0, 0),
    }],
    new Uint8Array(0),
    { compress: false },
  );
  const [reply] = await Promise.all([dialAndRead(bad), r.c.run(50)]);
  assert.equal(reply.type, MessageType.pushPull);
  assert.equal(r.node.ml.member("raw"), undefined);
  assert.equal(r.node.ml.stats.pushPullFailures, 1);
  await r.c.close();
});
