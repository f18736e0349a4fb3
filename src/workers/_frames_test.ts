import assert from "node:assert/strict";
import { encodeFrame, FrameReader, MAX_FRAME_BYTES } from "./_frames.ts";

Deno.test("frames come out whole however the stream cuts them, ArrayBuffers as bytes", () => {
  const body = new Uint8Array([1, 2, 3, 250]).buffer;
  const messages = [[[1, 7, 200, ["content-type", "text/plain"], body]], [[9, 0]], []];
  const stream = new Uint8Array(messages.flatMap((m) => [...encodeFrame(structuredClone(m))]));
  for (const cut of [1, 3, 5, 17, stream.byteLength]) {
    const reader = new FrameReader();
    const out: unknown[] = [];
    for (let at = 0; at < stream.byteLength; at += cut) {
      out.push(...reader.push(stream.slice(at, at + cut)));
    }
    assert.deepEqual(out, [
      [[1, 7, 200, ["content-type", "text/plain"], new Uint8Array([1, 2, 3, 250])]],
      [[9, 0]],
      [],
    ], `cut every ${cut} bytes`);
  }
});

Deno.test("a frame announcing more than the limit breaks the stream", () => {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, MAX_FRAME_BYTES + 1);
  assert.throws(() => new FrameReader().push(header), RangeError);
});
