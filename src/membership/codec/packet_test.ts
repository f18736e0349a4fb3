import assert from "node:assert/strict";
import { SeededRandom } from "../../util/random.ts";
import { encodeCompound } from "./compound.ts";
import { lzwCompress } from "./lzw.ts";
import { encodeMessage, MessageType } from "./messages.ts";
import { decodePacket, encodePacket, type PacketDecodeOptions } from "./packet.ts";
import { fixedNonceSealer, GOLDEN, hex, IP4, unhex, utf8 } from "./test_helpers.ts";

const limits: PacketDecodeOptions = { maxDecompressed: 1 << 20, maxParts: 1024 };
const ping = {
  type: MessageType.ping,
  body: { seqNo: 7, node: "node-b", sourceAddr: IP4, sourcePort: 7946, sourceNode: "node-a" },
};
const suspect = {
  type: MessageType.suspect,
  body: { incarnation: 3, node: "node-b", from: "node-a" },
};
const user = { type: MessageType.user, body: utf8("hi") };
const compoundParts = [
  unhex(GOLDEN.ping),
  encodeMessage(MessageType.suspect, suspect.body),
  encodeMessage(MessageType.user, utf8("hi")),
];
const compressOf = (message: Uint8Array) =>
  encodeMessage(MessageType.compress, { algo: 0, buf: lzwCompress(message) });

Deno.test("decodePacket() decodes the golden plain, CRC, compound and compressed packets", async () => {
  assert.deepEqual(await decodePacket(unhex(GOLDEN.ping), limits), {
    ok: true,
    messages: [ping],
    problems: [],
  });
  assert.deepEqual(await decodePacket(unhex(GOLDEN.crcPing), limits), {
    ok: true,
    messages: [ping],
    problems: [],
  });
  for (const vector of [GOLDEN.compound, GOLDEN.compress]) {
    assert.deepEqual(await decodePacket(unhex(vector), limits), {
      ok: true,
      messages: [ping, suspect, user],
      problems: [],
    });
  }
});

Deno.test("encodePacket() reproduces the golden CRC packet and Go's compress message", async () => {
  const crc = await encodePacket([unhex(GOLDEN.ping)], { compress: false, crc: true });
  assert.equal(hex(crc), GOLDEN.crcPing);
  assert.equal(hex(compressOf(unhex(GOLDEN.compound))), GOLDEN.compress);
  // 122 compressed bytes are not shorter than the 119-byte compound: Go would send it plain.
  const packet = await encodePacket(compoundParts, { compress: true, crc: false });
  assert.equal(hex(packet), GOLDEN.compound);
});

Deno.test("encodePacket() compresses only when shorter, and decodePacket() undoes every layer", async () => {
  const gossip = Array.from(
    { length: 40 },
    (_, i) =>
      encodeMessage(MessageType.suspect, { incarnation: i, node: "node-b", from: "node-a" }),
  );
  const plain = await encodePacket(gossip, { compress: false, crc: false });
  const packed = await encodePacket(gossip, { compress: true, crc: true, label: "prod" });
  assert.equal(hex(packed.subarray(0, 6)), "f40470726f64");
  assert.equal(packed[6], MessageType.hasCrc);
  assert.equal(packed[11], MessageType.compress);
  assert.ok(packed.length < plain.length / 2);
  const r = await decodePacket(packed, { ...limits, label: "prod" });
  assert.ok(r.ok);
  assert.equal(r.messages.length, 40);
  assert.deepEqual(r.messages[39], {
    type: MessageType.suspect,
    body: { incarnation: 39, node: "node-b", from: "node-a" },
  });
  await assert.rejects(encodePacket([], { compress: false, crc: false }), RangeError);
  await assert.rejects(
    encodePacket(Array(256).fill(gossip[0]), { compress: false, crc: false }),
    RangeError,
  );
});

Deno.test("encodePacket() and decodePacket() run the encryption hooks with the label as AAD", async () => {
  const sealer = await fixedNonceSealer(GOLDEN.aesKey, GOLDEN.nonce);
  const packet = await encodePacket([unhex(GOLDEN.ping)], {
    compress: false,
    crc: false,
    label: "prod",
    encrypt: sealer.seal,
  });
  assert.equal(hex(packet), hex(unhex(GOLDEN.udpLabelledV1)));
  const r = await decodePacket(packet, { ...limits, label: "prod", decrypt: sealer.open });
  assert.deepEqual(r, { ok: true, messages: [ping], problems: [] });
  // The label is authenticated: the same bytes under another label do not open.
  const relabelled = unhex("f40470726f65" + hex(packet.subarray(6)));
  const bad = await decodePacket(relabelled, { ...limits, label: "proe", decrypt: sealer.open });
  assert.equal(!bad.ok && bad.error.reason, "decrypt");
  // Without verifyIncoming, an unencrypted packet is read as plaintext.
  const plain = unhex("f40470726f64" + GOLDEN.ping);
  const lax = { ...limits, label: "prod", decrypt: sealer.open, verifyIncoming: false };
  assert.deepEqual(await decodePacket(plain, lax), { ok: true, messages: [ping], problems: [] });
  const strict = await decodePacket(plain, { ...lax, verifyIncoming: true });
  assert.equal(!strict.ok && strict.error.reason, "decrypt");
});

Deno.test("decodePacket() applies the label rule", async () => {
  const labelled = unhex("f40470726f64" + GOLDEN.nack);
  const reason = async (bytes: Uint8Array, options: Partial<PacketDecodeOptions>) => {
    const r = await decodePacket(bytes, { ...limits, ...options });
    return r.ok ? "ok" : r.error.reason;
  };
  assert.equal(await reason(labelled, { label: "prod" }), "ok");
  assert.equal(await reason(labelled, { label: "dev" }), "label");
  assert.equal(await reason(labelled, {}), "label");
  assert.equal(await reason(unhex(GOLDEN.nack), { label: "prod" }), "label");
  assert.equal(
    await reason(unhex(GOLDEN.nack), { label: "prod", skipInboundLabelCheck: true }),
    "ok",
  );
  assert.equal(await reason(labelled, { label: "prod", skipInboundLabelCheck: true }), "label");
  assert.equal(await reason(unhex("f400" + GOLDEN.nack), {}), "label");
  assert.equal(await reason(unhex("f40470"), {}), "label");
});

Deno.test("decodePacket() drops bad CRCs, empty and unsupported packets with a reason", async () => {
  const reason = async (hexBytes: string) => {
    const r = await decodePacket(unhex(hexBytes), limits);
    return r.ok ? "ok" : r.error.reason;
  };
  const crc = unhex(GOLDEN.crcPing);
  crc[crc.length - 1] ^= 1;
  assert.equal(await reason(hex(crc)), "crc");
  assert.equal(await reason(""), "empty");
  assert.equal(await reason("f40470726f64"), "label");
  assert.equal(await reason(GOLDEN.pushPull), "unsupported-type");
  assert.equal(await reason(GOLDEN.err), "unsupported-type");
  assert.equal(await reason("0c0102"), "unsupported-type"); // too short to be a CRC layer
  assert.equal(await reason("0c" + hex(crc.subarray(1))), "crc");
  assert.equal(await reason("ee"), "unsupported-type");
  assert.equal(await reason("0082a4"), "malformed");
  assert.equal(await reason("0981a4416c676f01"), "unsupported-type"); // algo 1
  assert.equal(await reason("0982a4416c676f00a3427566a3010203"), "malformed"); // bad LZW
});

Deno.test("decodePacket() keeps the parts before a compound truncation and reports it", async () => {
  const bytes = unhex(GOLDEN.compound);
  const r = await decodePacket(bytes.subarray(0, bytes.length - 1), limits);
  assert.ok(r.ok);
  assert.deepEqual(r.messages, [ping, suspect]);
  assert.deepEqual(r.problems.map((p) => p.reason), ["truncated"]);
  const bad = encodeCompound([unhex(GOLDEN.nack), unhex("0b81"), new Uint8Array(0)]);
  const partial = await decodePacket(bad, limits);
  assert.ok(partial.ok);
  assert.deepEqual(partial.problems.map((p) => p.reason), ["malformed", "empty"]);
});

Deno.test("decodePacket() caps nesting depth, part count and decompressed size", async () => {
  let nested: Uint8Array = unhex(GOLDEN.nack);
  for (let i = 0; i < 9; i++) nested = i % 2 ? encodeCompound([nested]) : compressOf(nested);
  const deep = await decodePacket(nested, limits);
  assert.equal(!deep.ok && deep.error.reason, "too-deep");
  assert.equal((await decodePacket(nested, { ...limits, maxDepth: 9 })).ok, true);

  const many = encodeCompound(Array(255).fill(unhex(GOLDEN.nack)));
  const capped = await decodePacket(many, { ...limits, maxParts: 10 });
  assert.ok(capped.ok);
  assert.equal(capped.messages.length, 9); // the compound itself counts as one
  assert.deepEqual(capped.problems.map((p) => p.reason), ["too-many-parts"]);

  const bomb = compressOf(encodeMessage(MessageType.user, new Uint8Array(1 << 20)));
  assert.ok(bomb.length < 4000);
  const big = await decodePacket(bomb, { ...limits, maxDecompressed: 65536 });
  assert.equal(!big.ok && big.error.reason, "decompressed-too-large");
  // The budget is shared by every compress layer of the packet.
  const twice = encodeCompound([bomb, bomb]);
  const shared = await decodePacket(twice, { ...limits, maxDecompressed: (1 << 20) + 10 });
  assert.ok(shared.ok);
  assert.deepEqual(shared.problems.map((p) => p.reason), ["decompressed-too-large"]);
});

Deno.test("decodePacket() never throws on hostile input", async () => {
  const random = new SeededRandom(7);
  const byte = () => Math.floor(random.next() * 256);
  const seeds = [GOLDEN.ping, GOLDEN.compound, GOLDEN.compress, GOLDEN.crcPing].map(unhex);
  let messages = 0;
  for (let i = 0; i < 4000; i++) {
    let bytes: Uint8Array;
    if (i % 3 === 0) {
      bytes = Uint8Array.from({ length: Math.floor(random.next() * 120) }, byte);
      bytes[0] = [0, 7, 9, 12, 244][i % 5];
    } else {
      bytes = seeds[i % seeds.length].slice(0, 1 + Math.floor(random.next() * 130));
      for (let k = 0; k < 1 + (i % 4); k++) {
        bytes[Math.floor(random.next() * bytes.length)] = byte();
      }
    }
    const r = await decodePacket(bytes, { ...limits, maxDepth: 4 });
    if (r.ok) messages += r.messages.length;
    else assert.equal(r.error.name, "PacketError");
    // The last-resort catch in decodePacket formats an escaped exception this way: none may occur.
    const errors = r.ok ? r.problems : [r.error];
    for (const e of errors) assert.doesNotMatch(e.message, /Cannot decode packet: \w*Error/);
  }
  assert.ok(messages > 0);
});
