import assert from "node:assert/strict";
import * as codec from "./mod.ts";

Deno.test("mod.ts exposes the codec API and the documented example works", async () => {
  for (
    const name of [
      "encodeStruct",
      "decodeStruct",
      "defineStruct",
      "encodeMessage",
      "decodeMessage",
      "MessageType",
      "crc32",
      "lzwCompress",
      "lzwDecompress",
      "encodeCompound",
      "decodeCompound",
      "addLabelHeader",
      "stripLabelHeader",
      "encodePacket",
      "decodePacket",
      "StreamReader",
      "encodeStreamMessage",
      "encodePushPull",
      "encodeUserMessageStream",
    ]
  ) assert.ok(name in codec, name);
  const ping = codec.encodeMessage(codec.MessageType.ping, { seqNo: 7, node: "node-b" });
  const datagram = await codec.encodePacket([ping], { compress: true, crc: true });
  const result = await codec.decodePacket(datagram, { maxDecompressed: 1 << 20, maxParts: 4096 });
  assert.deepEqual(result, {
    ok: true,
    messages: [{ type: 0, body: { seqNo: 7, node: "node-b" } }],
    problems: [],
  });
});
