import assert from "node:assert/strict";
import { SharedMemberInterner } from "./member_interner.ts";

Deno.test("SharedMemberInterner.bytes returns one kept copy per distinct value", () => {
  const intern = new SharedMemberInterner();
  const buffer = Uint8Array.of(10, 0, 0, 1);
  const kept = intern.bytes(buffer);
  assert.notStrictEqual(kept, buffer);
  buffer[3] = 2; // the caller's buffer is reused
  assert.deepStrictEqual(kept, Uint8Array.of(10, 0, 0, 1));
  assert.strictEqual(intern.bytes(Uint8Array.of(10, 0, 0, 1)), kept);
  assert.notStrictEqual(intern.bytes(buffer), kept);
  assert.strictEqual(intern.size, 2);
});

Deno.test("SharedMemberInterner.bytes tells apart values of different lengths", () => {
  const intern = new SharedMemberInterner();
  const short = intern.bytes(Uint8Array.of(0));
  const long = intern.bytes(Uint8Array.of(0, 0));
  assert.deepStrictEqual([short.length, long.length], [1, 2]);
  assert.strictEqual(intern.bytes(new Uint8Array(0)).length, 0);
});

Deno.test("SharedMemberInterner.name returns the first equal string seen", () => {
  const intern = new SharedMemberInterner();
  const first = intern.name(["n", "1"].join(""));
  assert.strictEqual(intern.name("n1"), first);
  assert.strictEqual(intern.name("n2"), "n2");
});

Deno.test("SharedMemberInterner.slotIndex maps names to slots per table, growing as needed", () => {
  const intern = new SharedMemberInterner();
  const a = intern.slotIndex(), b = intern.slotIndex();
  for (let i = 0; i < 100; i++) a.set(`n${i}`, i * 2);
  b.set("n50", 0);
  assert.strictEqual(a.get("n0"), 0);
  assert.strictEqual(a.get("n99"), 198);
  assert.strictEqual(b.get("n50"), 0);
  assert.strictEqual(b.get("n0"), undefined);
  assert.strictEqual(a.get("unknown"), undefined);
  a.delete("n99");
  assert.strictEqual(a.get("n99"), undefined);
  assert.strictEqual(intern.id("n99"), 99);
  assert.strictEqual(intern.idOf("never"), undefined);
});
