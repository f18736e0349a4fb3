import assert from "node:assert/strict";
import { utf8ByteLength } from "./utf8.ts";

Deno.test("utf8ByteLength matches TextEncoder for short and long strings", () => {
  const encoder = new TextEncoder();
  const samples = ["", "abc", "é", "€", "😀", "a😀b", "\ud800", "\udc00x", "\ud800\ud800", "ключ"];
  for (let c = 0; c < 0x11000; c += 97) samples.push(String.fromCodePoint(c) + "z");
  for (const s of [...samples]) samples.push(s.repeat(40), "a".repeat(31) + s);
  for (const s of samples) {
    assert.equal(utf8ByteLength(s), encoder.encode(s).length, JSON.stringify(s.slice(0, 8)));
  }
});
