import assert from "node:assert/strict";
import { decodeCompound, encodeCompound, encodeCompoundMessages } from "./compound.ts";
import { encodeMessage, MessageType } from "./messages.ts";
import { GOLDEN, hex, unhex, utf8 } from "./test_helpers.ts";

// The golden compound: the 69-byte ping, suspect{3, "node-b", "node-a"}, user "hi".
const parts = [
  unhex(GOLDEN.ping),
  encodeMessage(MessageType.suspect, { incarnation: 3, node: "node-b", from: "node-a" }),
  encodeMessage(MessageType.user, utf8("hi")),
];

Deno.test("encodeCompound() reproduces the golden compound", () => {
  assert.equal(hex(encodeCompound(parts)), GOLDEN.compound);
});

Deno.test("decodeCompound() splits the golden compound into its parts", () => {
  const r = decodeCompound(unhex(GOLDEN.compound));
  assert.ok(r.ok);
  assert.deepEqual(r.parts.map(hex), parts.map(hex));
  assert.equal(r.truncated, 0);
});

Deno.test("decodeCompound() keeps whole parts before a truncation and counts the rest", () => {
  const bytes = unhex(GOLDEN.compound);
  const cut = decodeCompound(bytes.subarray(0, bytes.length - 1));
  assert.deepEqual(cut.ok && [cut.parts.map(hex), cut.truncated], [parts.slice(0, 2).map(hex), 1]);
  const early = decodeCompound(bytes.subarray(0, 10));
  assert.deepEqual(early.ok && [early.parts.length, early.truncated], [0, 3]);
  const trailing = decodeCompound(unhex(GOLDEN.compound + "ffff"));
  assert.deepEqual(trailing.ok && trailing.parts.length, 3);
});

Deno.test("decodeCompound() fails without a count or with a cut length table", () => {
  assert.equal(decodeCompound(unhex("07")).ok, false);
  assert.equal(decodeCompound(unhex("070300450027")).ok, false);
  assert.equal(decodeCompound(unhex("0001")).ok, false);
  assert.deepEqual(decodeCompound(unhex("0700")), { ok: true, parts: [], truncated: 0 });
});

Deno.test("encodeCompound() refuses more than 255 parts or a part of 64 KiB", () => {
  const one = unhex("0b81a55365714e6f09");
  assert.throws(() => encodeCompound(Array(256).fill(one)), RangeError);
  assert.throws(() => encodeCompound([new Uint8Array(65536)]), RangeError);
  assert.equal(decodeCompound(encodeCompound([new Uint8Array(65535)])).ok, true);
});

Deno.test("encodeCompoundMessages() chunks by 255 parts", () => {
  const messages = Array.from({ length: 600 }, (_, i) => Uint8Array.of(8, i & 0xff));
  const compounds = encodeCompoundMessages(messages);
  assert.deepEqual(compounds.map((c) => c[1]), [255, 255, 90]);
  const back = compounds.flatMap((c) => {
    const r = decodeCompound(c);
    return r.ok ? r.parts : [];
  });
  assert.deepEqual(back, messages);
  assert.deepEqual(encodeCompoundMessages([]), []);
});
