import assert from "node:assert/strict";
import { SeededRandom } from "../../util/random.ts";
import { encodeMessage, MessageType, type PushNodeState } from "./messages.ts";
import { encodeStruct } from "./msgpack.ts";
import { pushPullHeaderSchema } from "./messages.ts";
import {
  encodePushPull,
  encodeStreamMessage,
  encodeUserMessageStream,
  type PushNodeSource,
  StreamError,
  StreamReader,
  type StreamReaderOptions,
} from "./stream.ts";
import {
  fixedNonceSealer,
  GOLDEN,
  hex,
  IP4,
  memoryConn,
  unhex,
  utf8,
  VSN,
} from "./test_helpers.ts";

const opts: StreamReaderOptions = { maxBytes: 64 << 20 };
const nodeA: PushNodeState = {
  name: "node-a",
  addr: IP4,
  port: 7946,
  meta: null,
  incarnation: 1,
  state: 0,
  vsn: VSN,
};
const pingBody = {
  seqNo: 7,
  node: "node-b",
  sourceAddr: IP4,
  sourcePort: 7946,
  sourceNode: "node-a",
};

const read = (bytes: Uint8Array, options: Partial<StreamReaderOptions> = {}, chunk = Infinity) =>
  new StreamReader(memoryConn(bytes, chunk), { ...opts, ...options }).readMessage();

async function failure(promise: Promise<unknown>): Promise<StreamError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof StreamError, String(e));
    return e;
  }
  throw new Error("expected a StreamError");
}

function nodes(n: number): PushNodeState[] {
  return Array.from({ length: n }, (_, i) => ({
    ...nodeA,
    name: `node-${i}`,
    meta: i % 3 ? utf8(`zone=${i % 7}`) : null,
    incarnation: i * 1000,
    state: i % 4,
  }));
}

Deno.test("StreamReader reads the golden push/pull fed one byte at a time", async () => {
  const conn = memoryConn(unhex(GOLDEN.pushPull), 1);
  const message = await new StreamReader(conn, opts).readMessage();
  assert.deepEqual(message, {
    type: MessageType.pushPull,
    body: {
      header: { nodes: 1, userStateLen: 3, join: true },
      nodes: [nodeA],
      userState: utf8("abc"),
    },
  });
  assert.equal(conn.reads, 100); // exactly the message: nothing read past its end
});

Deno.test("encodePushPull() reproduces the golden push/pull stream body", async () => {
  const bytes = await encodePushPull({ join: true }, [nodeA], utf8("abc"), { compress: false });
  assert.equal(hex(bytes), GOLDEN.pushPull);
  const header = { join: true, nodes: 2 };
  await assert.rejects(encodePushPull(header, [nodeA], utf8(""), { compress: false }), RangeError);
});

Deno.test("StreamReader reads a compressed, labelled push/pull one byte at a time", async () => {
  const state = nodes(300);
  const userState = utf8("x".repeat(5000));
  const bytes = await encodePushPull({ join: false }, state, userState, {
    compress: true,
    label: "prod",
  });
  assert.equal(hex(bytes.subarray(0, 7)), "f40470726f6409");
  const reader = new StreamReader(memoryConn(bytes, 1), { ...opts, label: "prod" });
  assert.equal(await reader.readLabel(), "prod");
  const message = await reader.readMessage();
  assert.equal(message.type, MessageType.pushPull);
  if (message.type !== MessageType.pushPull) return;
  assert.deepEqual(message.body.header, { nodes: 300, userStateLen: 5000, join: false });
  assert.deepEqual(message.body.nodes, state);
  assert.deepEqual(message.body.userState, userState);
});

Deno.test("StreamReader reads a plain push/pull incrementally at any chunk size", async () => {
  const bytes = await encodePushPull({ join: true }, nodes(50), utf8("state"), { compress: false });
  for (const chunk of [1, 2, 3, 7, 64, 4096]) {
    const m = await read(bytes, {}, chunk);
    assert.equal(m.type === MessageType.pushPull && m.body.nodes.length, 50, `chunk ${chunk}`);
  }
});

Deno.test("encodeUserMessageStream() frames a reliable user message that StreamReader reads", async () => {
  const plain = await encodeUserMessageStream(utf8("hello"), { compress: false });
  assert.equal(hex(plain), GOLDEN.userMsgHeader + hex(utf8("hello")));
  const compressed = await encodeUserMessageStream(utf8("hello"), { compress: true });
  assert.equal(compressed[0], MessageType.compress);
  for (const bytes of [plain, compressed]) {
    assert.deepEqual(await read(bytes, {}, 1), { type: MessageType.user, body: utf8("hello") });
  }
  const empty = await encodeUserMessageStream(new Uint8Array(0), { compress: false });
  assert.deepEqual(await read(empty), { type: MessageType.user, body: new Uint8Array(0) });
});

Deno.test("StreamReader reads the TCP ping, its ack and errResp", async () => {
  const ping = await encodeStreamMessage(unhex(GOLDEN.ping), { compress: false });
  assert.deepEqual(await read(ping, {}, 1), { type: MessageType.ping, body: pingBody });
  const ack = encodeMessage(MessageType.ackResp, { seqNo: 7, payload: null });
  assert.deepEqual(await read(await encodeStreamMessage(ack, { compress: true })), {
    type: MessageType.ackResp,
    body: { seqNo: 7, payload: null },
  });
  assert.deepEqual(await read(unhex(GOLDEN.err)), {
    type: MessageType.errResp,
    body: { error: "boom" },
  });
});

Deno.test("StreamReader reads consecutive messages from one connection", async () => {
  const bytes = unhex(GOLDEN.ping + GOLDEN.ackPayload);
  const reader = new StreamReader(memoryConn(bytes), opts);
  assert.equal((await reader.readMessage()).type, MessageType.ping);
  assert.deepEqual(await reader.readMessage(), {
    type: MessageType.ackResp,
    body: { seqNo: 7, payload: unhex("010203") },
  });
  assert.equal((await failure(reader.readMessage())).reason, "closed");
});

Deno.test("encodeStreamMessage() and StreamReader run the encryption hooks (golden frame)", async () => {
  const sealer = await fixedNonceSealer(GOLDEN.aesKey, GOLDEN.nonce);
  const ping = unhex(GOLDEN.ping);
  const framed = await encodeStreamMessage(ping, {
    compress: false,
    label: "prod",
    encrypt: sealer,
  });
  assert.equal(hex(framed), "f40470726f64" + hex(unhex(GOLDEN.streamV1)));
  const reader = new StreamReader(memoryConn(framed, 3), {
    ...opts,
    label: "prod",
    decrypt: sealer.open,
    requireEncryption: true,
  });
  assert.equal(await reader.readLabel(), "prod");
  assert.deepEqual(await reader.readMessage(), { type: MessageType.ping, body: pingBody });
  // A reply carries no label header but is sealed under the same label.
  const reply = await encodeStreamMessage(ping, {
    compress: true,
    label: "prod",
    writeLabelHeader: false,
    encrypt: sealer,
  });
  assert.equal(reply[0], MessageType.encrypt);
  const back = await read(reply, { label: "prod", decrypt: sealer.open });
  assert.deepEqual(back, { type: MessageType.ping, body: pingBody });
  const wrongLabel = await failure(read(reply, { label: "dev", decrypt: sealer.open }));
  assert.equal(wrongLabel.reason, "decrypt");
  const lying = { sealedLength: (n: number) => n + 1, seal: sealer.seal };
  await assert.rejects(encodeStreamMessage(ping, { compress: false, encrypt: lying }), RangeError);
});

Deno.test("StreamReader enforces encryption and label settings", async () => {
  const ping = unhex(GOLDEN.ping);
  const sealer = await fixedNonceSealer(GOLDEN.aesKey, GOLDEN.nonce);
  const sealed = await encodeStreamMessage(ping, { compress: false, encrypt: sealer });
  assert.equal((await failure(read(sealed))).reason, "decrypt");
  const required = read(ping, { decrypt: sealer.open, requireEncryption: true });
  assert.equal((await failure(required)).reason, "decrypt");
  const labelled = await encodeStreamMessage(ping, { compress: false, label: "prod" });
  const responder = (o: Partial<StreamReaderOptions>) =>
    new StreamReader(memoryConn(labelled), { ...opts, ...o }).readLabel();
  assert.equal((await failure(responder({ label: "dev" }))).reason, "label");
  assert.equal((await failure(responder({}))).reason, "label");
  const skip = responder({ label: "prod", skipInboundLabelCheck: true });
  assert.equal((await failure(skip)).reason, "label");
  const unlabelled = new StreamReader(memoryConn(ping), { ...opts, label: "prod" });
  assert.equal((await failure(unlabelled.readLabel())).reason, "label");
  const empty = new StreamReader(memoryConn(unhex("f400")), opts);
  assert.equal((await failure(empty.readLabel())).reason, "label");
});

Deno.test("StreamReader enforces node, user-state, byte and decompression caps", async () => {
  const header = (nodes: number, userStateLen: number) =>
    unhex("06" + hex(encodeStruct(pushPullHeaderSchema, { nodes, userStateLen, join: false })));
  const reason = async (bytes: Uint8Array, o: Partial<StreamReaderOptions> = {}) =>
    (await failure(read(bytes, o))).reason;
  assert.equal(await reason(header(1_048_577, 0)), "too-large");
  assert.equal(await reason(header(0, 20 * 1024 * 1024 + 1)), "too-large");
  assert.equal(await reason(header(-1, 0)), "malformed");
  assert.equal(await reason(header(0, -1)), "malformed");
  assert.equal(await reason(header(1_048_576, 0)), "closed"); // allowed, then the peer hung up
  assert.equal(await reason(header(5, 0), { maxNodes: 4 }), "too-large");
  const userMsg = unhex("0881aa557365724d73674c656ed2ffffffff");
  assert.equal(await reason(userMsg), "malformed");
  const big = await encodeUserMessageStream(new Uint8Array(100_000), { compress: false });
  assert.equal(await reason(big, { maxBytes: 50_000 }), "too-large");
  const bomb = await encodeUserMessageStream(new Uint8Array(1 << 20), { compress: true });
  assert.ok(bomb.length < 4000);
  assert.equal(await reason(bomb, { maxDecompressed: 100_000 }), "too-large");
  const frame = unhex("0a01400001");
  assert.equal(
    await reason(frame, { decrypt: () => Promise.resolve(new Uint8Array(1)) }),
    "too-large",
  );
});

Deno.test("StreamReader fails with closed, unsupported-type and malformed as appropriate", async () => {
  const reason = async (bytes: Uint8Array) => (await failure(read(bytes, {}, 1))).reason;
  assert.equal(await reason(new Uint8Array(0)), "closed");
  const ping = unhex(GOLDEN.ping);
  for (const n of [1, 10, 68]) assert.equal(await reason(ping.subarray(0, n)), "closed");
  const suspect = await failure(read(unhex(GOLDEN.suspect)));
  assert.deepEqual([suspect.reason, suspect.messageType], ["unsupported-type", 3]);
  assert.equal(await reason(unhex(GOLDEN.compound)), "unsupported-type");
  assert.equal(await reason(unhex("0081a55365714e6fa131")), "malformed");
  assert.equal(await reason(unhex("0981a4416c676f01")), "malformed"); // unknown algorithm
  assert.equal(await reason(unhex("0982a4416c676f00a3427566a3000302")), "malformed"); // empty
  assert.equal(await reason(unhex("0982a4416c676f00a3427566a3010203")), "malformed"); // bad LZW
});

Deno.test("StreamReader fails with timeout when the deadline signal fires", async () => {
  const stalled = { read: () => new Promise<number | null>(() => {}) };
  const controller = new AbortController();
  const reader = new StreamReader(stalled, { ...opts, signal: controller.signal });
  const pending = failure(reader.readMessage());
  controller.abort();
  assert.equal((await pending).reason, "timeout");
  const late = new StreamReader(memoryConn(unhex(GOLDEN.ping)), {
    ...opts,
    signal: AbortSignal.abort(),
  });
  assert.equal((await failure(late.readMessage())).reason, "timeout");
});

Deno.test("StreamReader survives broken connections", async () => {
  const broken = { read: () => Promise.reject(new Error("connection reset")) };
  const e = await failure(new StreamReader(broken, opts).readMessage());
  assert.deepEqual([e.reason, e.message], ["closed", "Cannot read stream: connection reset"]);
  const idle = { read: () => Promise.resolve(0) };
  assert.equal((await failure(new StreamReader(idle, opts).readMessage())).reason, "closed");
});

Deno.test("StreamReader never throws anything but StreamError on hostile streams", async () => {
  const random = new SeededRandom(11);
  const byte = () => Math.floor(random.next() * 256);
  const seeds = [GOLDEN.pushPull, GOLDEN.ping, GOLDEN.userMsgHeader + "6869686968"].map(unhex);
  let ok = 0;
  for (let i = 0; i < 1500; i++) {
    let bytes: Uint8Array;
    if (i % 2) {
      bytes = Uint8Array.from({ length: Math.floor(random.next() * 100) }, byte);
      if (bytes.length) bytes[0] = [0, 2, 6, 8, 9, 10, 13, 244][i % 8];
    } else {
      bytes = seeds[i % 3].slice();
      for (let k = 0; k < 1 + (i % 3); k++) {
        bytes[Math.floor(random.next() * bytes.length)] = byte();
      }
    }
    const reader = new StreamReader(memoryConn(bytes, 1 + (i % 5)), {
      maxBytes: 1 << 16,
      decrypt: (sealed) => Promise.resolve(sealed),
    });
    try {
      await reader.readLabel();
      await reader.readMessage();
      ok++;
    } catch (e) {
      assert.ok(e instanceof StreamError, String(e));
    }
  }
  assert.ok(ok > 0);
});

Deno.test("encodePushPull() from a record source writes the same bytes as from records", async () => {
  const random = new SeededRandom(11);
  const nodes: PushNodeState[] = Array.from({ length: 300 }, (_, i) => ({
    name: i % 7 === 0 ? `nœud-${i}` : `node-${i}`,
    addr: Uint8Array.of(10, 0, i >> 8, i & 0xff),
    port: Math.floor(random.next() * 65536),
    meta: i % 3 === 0 ? new Uint8Array(0) : Uint8Array.of(i & 0xff, 1, 2),
    incarnation: Math.floor(random.next() * 2 ** 32),
    state: i % 4,
    vsn: VSN,
  }));
  const source = {
    size: nodes.length,
    forEachRecord: (visit: Parameters<PushNodeSource["forEachRecord"]>[0]) => {
      for (const n of nodes) {
        visit(n.name, n.addr!, n.port, n.meta!, n.incarnation, n.state, n.vsn!);
      }
    },
  };
  const state = Uint8Array.of(9, 9, 9);
  for (const compress of [false, true]) {
    const fromRecords = await encodePushPull({ join: true }, nodes, state, { compress });
    const fromSource = await encodePushPull({ join: true }, source, state, { compress });
    assert.deepEqual(fromSource, fromRecords);
  }
  await assert.rejects(
    encodePushPull({ join: false }, { ...source, size: 301 }, state, { compress: false }),
    /announced 301 records: visited 300/,
  );
});
