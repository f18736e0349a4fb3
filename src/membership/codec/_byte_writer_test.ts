import assert from "node:assert/strict";
import { ByteWriter } from "./_byte_writer.ts";
import { lzwCompress, lzwDecompress } from "./lzw.ts";

Deno.test("pooled ByteWriters never share bytes, even when alive together or reused", () => {
  const a = ByteWriter.pooled(16);
  const b = ByteWriter.pooled(16); // the scratch is taken: b gets its own buffer
  a.ascii("first");
  b.ascii("second");
  const fromA = a.toBytes();
  a.release();
  const fromB = b.toBytes();
  b.release();
  const c = ByteWriter.pooled(16); // reuses the scratch a had
  c.ascii("XXXXXXXX");
  const fromC = c.toBytes();
  c.release();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.deepEqual([text(fromA), text(fromB), text(fromC)], ["first", "second", "XXXXXXXX"]);
});

Deno.test("a released pooled writer grows again instead of writing into the scratch", () => {
  const a = ByteWriter.pooled(16);
  a.release();
  const b = ByteWriter.pooled(16);
  b.ascii("kept");
  a.ascii("late write"); // misuse: must not land in b's buffer
  assert.equal(new TextDecoder().decode(b.toBytes()), "kept");
  b.release();
});

Deno.test("LZW results stay valid across later calls (scratch state is not shared out)", () => {
  const one = new TextEncoder().encode("abcabcabcabcabc-one-".repeat(50));
  const two = new TextEncoder().encode("xyzxyzxyz-two-".repeat(80));
  const c1 = lzwCompress(one);
  const copy1 = c1.slice();
  const c2 = lzwCompress(two);
  assert.deepEqual(c1, copy1);
  const d1 = lzwDecompress(c1);
  const d2 = lzwDecompress(c2);
  assert.deepEqual(d1, one);
  assert.deepEqual(d2, two);
});
