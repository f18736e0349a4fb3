import assert from "node:assert/strict";
import {
  type DecodedMessage,
  decodeMessage,
  encodeMessage,
  MessageType,
  NodeStateType,
  pushNodeStateSchema,
  pushPullHeaderSchema,
  userMsgHeaderSchema,
} from "./messages.ts";
import { decodeStruct, encodeStruct } from "./msgpack.ts";
import { GOLDEN, hex, IP4, unhex, utf8, VSN } from "./test_helpers.ts";

const source = { sourceAddr: IP4, sourcePort: 7946, sourceNode: "node-a" };

/** Golden vectors of single messages with the objects they encode. */
const vectors: [string, DecodedMessage][] = [
  [GOLDEN.ping, { type: MessageType.ping, body: { seqNo: 7, node: "node-b", ...source } }],
  [GOLDEN.pingMinimal, { type: MessageType.ping, body: { seqNo: 7, node: "node-b" } }],
  [GOLDEN.indirectPing, {
    type: MessageType.indirectPing,
    body: { seqNo: 9, target: IP4, port: 7946, node: "node-c", nack: true, ...source },
  }],
  [GOLDEN.ackNil, { type: MessageType.ackResp, body: { seqNo: 7, payload: null } }],
  [GOLDEN.ackPayload, { type: MessageType.ackResp, body: { seqNo: 7, payload: unhex("010203") } }],
  [GOLDEN.nack, { type: MessageType.nackResp, body: { seqNo: 9 } }],
  [GOLDEN.err, { type: MessageType.errResp, body: { error: "boom" } }],
  [GOLDEN.suspect, {
    type: MessageType.suspect,
    body: { incarnation: 3, node: "node-c", from: "node-a" },
  }],
  [GOLDEN.alive, {
    type: MessageType.alive,
    body: { incarnation: 1, node: "node-a", addr: IP4, port: 7946, meta: null, vsn: VSN },
  }],
  [GOLDEN.alive16, {
    type: MessageType.alive,
    body: {
      incarnation: 300,
      node: "node-a",
      addr: unhex("00000000000000000000ffff0a000001"),
      port: 7946,
      meta: utf8("role=cache"),
      vsn: VSN,
    },
  }],
  [GOLDEN.dead, {
    type: MessageType.dead,
    body: { incarnation: 2, node: "node-a", from: "node-a" },
  }],
];

Deno.test("MessageType has memberlist's type bytes", () => {
  assert.deepEqual(Object.values(MessageType), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 244]);
  assert.deepEqual(NodeStateType, { alive: 0, suspect: 1, dead: 2, left: 3 });
});

Deno.test("decodeMessage() decodes every golden single message", () => {
  for (const [vector, expected] of vectors) {
    assert.deepEqual(decodeMessage(unhex(vector)), expected, vector);
  }
});

Deno.test("encodeMessage() reproduces every golden single message byte for byte", () => {
  for (const [vector, { type, body }] of vectors) {
    // deno-lint-ignore no-explicit-any
    assert.equal(hex(encodeMessage(type, body as any)), vector);
  }
});

Deno.test("encodeMessage() and decodeMessage() carry UDP user messages raw", () => {
  const bytes = encodeMessage(MessageType.user, utf8("hi"));
  assert.equal(hex(bytes), "086869");
  assert.deepEqual(decodeMessage(bytes), { type: MessageType.user, body: utf8("hi") });
});

Deno.test("pushPullHeaderSchema round-trips the golden headers and reads the v0.5.5 form", () => {
  const header = decodeStruct(pushPullHeaderSchema, unhex(GOLDEN.pushPullHeader), 1);
  assert.deepEqual(header.status === "ok" && header.value, {
    nodes: 2,
    userStateLen: 0,
    join: true,
  });
  assert.equal(
    "06" + hex(encodeStruct(pushPullHeaderSchema, { nodes: 2, userStateLen: 0, join: true })),
    GOLDEN.pushPullHeader,
  );
  const big = { nodes: 200, userStateLen: 70000, join: false };
  assert.equal("06" + hex(encodeStruct(pushPullHeaderSchema, big)), GOLDEN.pushPullHeaderV2);
  for (const vector of [GOLDEN.pushPullHeaderV2, GOLDEN.pushPullHeaderOld]) {
    const r = decodeStruct(pushPullHeaderSchema, unhex(vector), 1);
    assert.deepEqual(r, { status: "ok", value: big, bytesRead: unhex(vector).length - 1 });
  }
});

Deno.test("pushNodeStateSchema and userMsgHeaderSchema match the golden bytes", () => {
  const node = {
    name: "node-a",
    addr: IP4,
    port: 7946,
    meta: null,
    incarnation: 1,
    state: NodeStateType.alive,
    vsn: VSN,
  };
  const stream = unhex(GOLDEN.pushPull);
  const headerLength = unhex(GOLDEN.pushPullHeader).length;
  const r = decodeStruct(pushNodeStateSchema, stream, headerLength);
  assert.equal(r.status, "ok");
  if (r.status !== "ok") return;
  assert.deepEqual(r.value, node);
  assert.equal(
    hex(encodeStruct(pushNodeStateSchema, node)),
    hex(stream.subarray(headerLength, headerLength + r.bytesRead)),
  );
  assert.equal(
    "08" + hex(encodeStruct(userMsgHeaderSchema, { userMsgLen: 5 })),
    GOLDEN.userMsgHeader,
  );
});

Deno.test("decodeMessage() ignores bytes after the body, as Go does", () => {
  const bytes = unhex(GOLDEN.nack + "deadbeef");
  assert.deepEqual(decodeMessage(bytes), { type: MessageType.nackResp, body: { seqNo: 9 } });
});

Deno.test("decodeMessage() throws on empty, unknown, container and truncated input", () => {
  assert.throws(() => decodeMessage(new Uint8Array(0)), RangeError);
  assert.throws(() => decodeMessage(unhex("ee80")), /not a single message type: received 238/);
  assert.throws(() => decodeMessage(unhex(GOLDEN.compound)), RangeError);
  assert.throws(() => decodeMessage(unhex(GOLDEN.pushPull)), RangeError);
  const ping = unhex(GOLDEN.ping);
  for (let n = 1; n < ping.length; n++) {
    assert.throws(() => decodeMessage(ping.subarray(0, n)), RangeError, `prefix ${n}`);
  }
  assert.throws(() => decodeMessage(unhex("0081a55365714e6fa131")), {
    name: "RangeError",
    message: "Cannot decode ping: SeqNo must be a u32: received str/bin",
  });
});

Deno.test("encodeMessage() rejects out-of-range fields", () => {
  assert.throws(
    () =>
      encodeMessage(MessageType.alive, {
        incarnation: 1,
        node: "n",
        addr: IP4,
        port: 70000,
        meta: null,
        vsn: VSN,
      }),
    { name: "RangeError", message: "Cannot encode alive: Port must be a u16: received 70000" },
  );
});
