import assert from "node:assert/strict";
import { SeededRandom } from "../../util/random.ts";
import {
  type DecodeResult,
  decodeStruct,
  defineStruct,
  encodeStruct,
  type FieldKind,
} from "./msgpack.ts";
import { hex, unhex } from "./test_helpers.ts";

interface One {
  v: unknown;
}
const one = (kind: FieldKind) => defineStruct<One>("one", [{ prop: "v", goName: "V", kind }]);
/** Hex of the value part of `{V: v}` (after `81 a1 56`). */
const valueHex = (kind: FieldKind, v: unknown) => hex(encodeStruct(one(kind), { v })).slice(6);
const decodeValue = (kind: FieldKind, value: string): DecodeResult<One> =>
  decodeStruct(one(kind), unhex("81a156" + value));
const decodedValue = (kind: FieldKind, value: string): unknown => {
  const r = decodeValue(kind, value);
  assert.equal(r.status, "ok", JSON.stringify(r));
  return r.status === "ok" ? r.value.v : undefined;
};

interface All {
  s: string;
  b: Uint8Array | null;
  t: boolean;
  a: number;
  p: number;
  q: number;
  i: number;
  o?: string;
}
const allSchema = defineStruct<All>("all", [
  { prop: "s", goName: "Str", kind: "string" },
  { prop: "b", goName: "Bytes", kind: "bytes" },
  { prop: "t", goName: "Bool", kind: "bool" },
  { prop: "a", goName: "U8", kind: "u8" },
  { prop: "p", goName: "Port", kind: "u16" },
  { prop: "q", goName: "Q", kind: "u32" },
  { prop: "i", goName: "Int", kind: "int" },
  { prop: "o", goName: "Opt", kind: "string", omitEmpty: true },
]);
const sample: All = { s: "héllo", b: unhex("c0a8010a"), t: true, a: 200, p: 7946, q: 1e9, i: -5 };

Deno.test("encodeStruct() writes unsigned fields in their smallest unsigned form", () => {
  assert.equal(valueHex("u32", 0), "00");
  assert.equal(valueHex("u32", 127), "7f");
  assert.equal(valueHex("u32", 128), "cc80");
  assert.equal(valueHex("u32", 255), "ccff");
  assert.equal(valueHex("u32", 256), "cd0100");
  assert.equal(valueHex("u16", 65535), "cdffff");
  assert.equal(valueHex("u32", 65536), "ce00010000");
  assert.equal(valueHex("u32", 0xffffffff), "ceffffffff");
});

Deno.test("encodeStruct() writes Go int fields as go-msgpack v2 does", () => {
  assert.equal(valueHex("int", 127), "7f");
  assert.equal(valueHex("int", 128), "d10080"); // positive values skip int8
  assert.equal(valueHex("int", 200), "d100c8");
  assert.equal(valueHex("int", 32767), "d17fff");
  assert.equal(valueHex("int", 32768), "d200008000");
  assert.equal(valueHex("int", 70000), "d200011170");
  assert.equal(valueHex("int", 2 ** 31), "d30000000080000000");
  assert.equal(valueHex("int", -1), "ff");
  assert.equal(valueHex("int", -32), "e0");
  assert.equal(valueHex("int", -33), "d0df");
  assert.equal(valueHex("int", -129), "d1ff7f");
  assert.equal(valueHex("int", -40000), "d2ffff63c0");
  assert.equal(valueHex("int", -(2 ** 40)), "d3ffffff0000000000");
});

Deno.test("encodeStruct() writes strings and bytes as fixstr, str16 or str32, never str8 or bin", () => {
  assert.equal(valueHex("string", ""), "a0");
  assert.equal(valueHex("string", "a".repeat(31)).slice(0, 2), "bf");
  assert.equal(valueHex("string", "a".repeat(32)).slice(0, 6), "da0020");
  assert.equal(valueHex("string", "a".repeat(255)).slice(0, 6), "da00ff");
  assert.equal(valueHex("bytes", new Uint8Array(65536)).slice(0, 10), "db00010000");
  assert.equal(valueHex("bytes", null), "c0");
  assert.equal(valueHex("bytes", new Uint8Array(0)), "a0");
  assert.equal(valueHex("bytes", unhex("c0a8")), "a2c0a8");
  assert.equal(valueHex("bool", true), "c3");
  assert.equal(valueHex("bool", false), "c2");
});

Deno.test("encodeStruct() sorts keys byte-wise and drops empty omitempty fields", () => {
  const bytes = encodeStruct(allSchema, sample);
  assert.equal(bytes[0], 0x87);
  const keys = ["Bool", "Bytes", "Int", "Port", "Q", "Str", "U8"];
  let at = 1;
  for (const key of keys) {
    assert.equal(bytes[at], 0xa0 | key.length, key);
    assert.equal(new TextDecoder().decode(bytes.subarray(at + 1, at + 1 + key.length)), key);
    at = nextKey(bytes, at + 1 + key.length);
  }
  const withOpt = encodeStruct(allSchema, { ...sample, o: "x" });
  assert.equal(withOpt[0], 0x88);
  assert.deepEqual(encodeStruct(allSchema, { ...sample, o: "" }), bytes);
});

// Offset after the value that starts at `at` (only the forms `sample` uses).
function nextKey(bytes: Uint8Array, at: number): number {
  const b = bytes[at];
  if (b <= 0x7f || b >= 0xe0 || b === 0xc2 || b === 0xc3) return at + 1;
  if (b >= 0xa0 && b <= 0xbf) return at + 1 + (b & 0x1f);
  return at + 1 + ({ 0xcc: 1, 0xcd: 2, 0xce: 4 } as Record<number, number>)[b];
}

Deno.test("encodeStruct() rejects values that do not fit their field, naming it", () => {
  const ping = defineStruct<{ seqNo: number }>("ping", [
    { prop: "seqNo", goName: "SeqNo", kind: "u32" },
  ]);
  assert.throws(() => encodeStruct(ping, { seqNo: -1 }), {
    name: "RangeError",
    message: "Cannot encode ping: SeqNo must be a u32: received -1",
  });
  assert.throws(() => encodeStruct(ping, { seqNo: 2 ** 32 }), RangeError);
  assert.throws(() => encodeStruct(ping, { seqNo: 1.5 }), RangeError);
  assert.throws(() => encodeStruct(one("u16"), { v: 65536 }), RangeError);
  assert.throws(() => encodeStruct(one("string"), { v: 5 }), TypeError);
  assert.throws(() => encodeStruct(one("bytes"), { v: "x" }), TypeError);
  assert.throws(() => encodeStruct(one("bool"), { v: 1 }), TypeError);
  assert.throws(() => encodeStruct(one("int"), { v: 2 ** 60 }), TypeError);
});

Deno.test("decodeStruct() round-trips every kind and reports the bytes consumed", () => {
  const bytes = encodeStruct(allSchema, { ...sample, o: "opt" });
  const trailing = new Uint8Array(bytes.length + 3);
  trailing.set(bytes);
  const r = decodeStruct(allSchema, trailing);
  assert.equal(r.status, "ok");
  if (r.status !== "ok") return;
  assert.equal(r.bytesRead, bytes.length);
  assert.deepEqual(r.value, { ...sample, o: "opt" });
});

Deno.test("decodeStruct() accepts every string and byte form Go accepts", () => {
  const ab = "6162";
  for (const form of ["a2" + ab, "d902" + ab, "da0002" + ab, "db00000002" + ab]) {
    assert.equal(decodedValue("string", form), "ab", form);
    assert.deepEqual(decodedValue("bytes", form), unhex(ab), form);
  }
  for (const form of ["c402" + ab, "c50002" + ab, "c600000002" + ab]) {
    assert.equal(decodedValue("string", form), "ab", form);
    assert.deepEqual(decodedValue("bytes", form), unhex(ab), form);
  }
  assert.deepEqual(decodedValue("bytes", "9361cc62" + "00"), unhex("616200"));
  // Raw bytes inside a str header stay raw (an IP address is not UTF-8).
  assert.deepEqual(decodedValue("bytes", "a4c0a8010a"), unhex("c0a8010a"));
});

Deno.test("decodeStruct() accepts any integer width that fits, signed or unsigned", () => {
  for (const form of ["05", "cc05", "cd0005", "ce00000005", "cf0000000000000005", "d005"]) {
    assert.equal(decodedValue("u8", form), 5, form);
    assert.equal(decodedValue("int", form), 5, form);
  }
  for (const form of ["d10005", "d200000005", "d30000000000000005"]) {
    assert.equal(decodedValue("u16", form), 5, form);
  }
  assert.equal(decodedValue("int", "ccc8"), 200); // v0.5.5 writes ints unsigned
  assert.equal(decodedValue("int", "d100c8"), 200);
  assert.equal(decodedValue("int", "ff"), -1);
  assert.equal(decodedValue("int", "d3ffffffffffffffff"), -1);
  assert.equal(decodedValue("u32", "ceffffffff"), 0xffffffff);
  assert.equal(decodedValue("u16", "cdffff"), 65535);
});

Deno.test("decodeStruct() fails on values over the field's width", () => {
  const cases: [FieldKind, string][] = [
    ["u16", "ce00010000"], // Port 65536
    ["u8", "cd0100"],
    ["u32", "cf0000000100000000"],
    ["u32", "ff"],
    ["u16", "d0ff"],
    ["int", "cfffffffffffffffff"],
    ["int", "d38000000000000000"],
  ];
  for (const [kind, form] of cases) {
    const r = decodeValue(kind, form);
    assert.equal(r.status, "malformed", `${kind} ${form}`);
    if (r.status === "malformed") assert.ok(r.error instanceof RangeError);
  }
  const port = defineStruct<{ port: number }>("alive", [
    { prop: "port", goName: "Port", kind: "u16" },
  ]);
  const r = decodeStruct(port, unhex("81a4506f7274ce00010000"));
  assert.equal(
    r.status === "malformed" && r.error.message,
    "Cannot decode alive: Port must be a u16: received 65536",
  );
});

Deno.test("decodeStruct() reads bool from 0/1 and nil as the zero value", () => {
  assert.equal(decodedValue("bool", "01"), true);
  assert.equal(decodedValue("bool", "00"), false);
  assert.equal(decodeValue("bool", "02").status, "malformed");
  assert.equal(decodedValue("bool", "c0"), false);
  assert.equal(decodedValue("string", "c0"), "");
  assert.equal(decodedValue("bytes", "c0"), null);
  assert.equal(decodedValue("u32", "c0"), 0);
  assert.equal(decodedValue("int", "c0"), 0);
});

Deno.test("decodeStruct() rejects wrong kinds", () => {
  assert.equal(decodeValue("string", "05").status, "malformed");
  assert.equal(decodeValue("u32", "a131").status, "malformed");
  assert.equal(decodeValue("u32", "cb3ff0000000000000").status, "malformed");
  assert.equal(decodeValue("bytes", "c3").status, "malformed");
  assert.equal(decodeValue("bytes", "91cd0100").status, "malformed");
  assert.equal(decodeStruct(one("u8"), unhex("05")).status, "malformed");
  assert.equal(decodeStruct(one("u8"), unhex("c1")).status, "malformed");
  assert.equal(decodeStruct(one("u8"), unhex("8105c0")).status, "malformed"); // int key
});

Deno.test("decodeStruct() skips unknown keys with any value and matches keys case-sensitively", () => {
  // {"x": {"a": [1, 2.5, ext], "b": nil}, "v": 9, "V": 7, "y": bin}
  const unknown = "a178" + "82a16193" + "01cb4004000000000000d40102" + "a162c0";
  const bytes = unhex("84" + unknown + "a17609" + "a15607" + "a179c40100");
  const r = decodeStruct(one("u8"), bytes);
  assert.equal(r.status, "ok");
  if (r.status === "ok") {
    assert.deepEqual(r.value, { v: 7 });
    assert.equal(r.bytesRead, bytes.length);
  }
});

Deno.test("decodeStruct() accepts structs encoded as arrays in Go field order", () => {
  const r = decodeStruct(allSchema, unhex("93a178c0c3"));
  assert.deepEqual(r.status === "ok" && r.value, { ...zeroAll(), s: "x", t: true });
  const extra = decodeStruct(one("u8"), unhex("930581a100c0c0"));
  assert.deepEqual(extra.status === "ok" && extra, { status: "ok", value: { v: 5 }, bytesRead: 7 });
  const nil = decodeStruct(allSchema, unhex("c0"));
  assert.deepEqual(nil.status === "ok" && nil.value, zeroAll());
});

function zeroAll(): All {
  return { s: "", b: null, t: false, a: 0, p: 0, q: 0, i: 0 };
}

Deno.test("decodeStruct() leaves empty omitempty fields absent", () => {
  const r = decodeStruct(allSchema, unhex("82a34f7074a0a353747201"));
  assert.equal(r.status, "malformed"); // Str must be a string
  const ok = decodeStruct(allSchema, unhex("81a34f7074a0"));
  assert.deepEqual(ok.status === "ok" && ok.value, zeroAll());
  assert.ok(ok.status === "ok" && !("o" in ok.value));
});

Deno.test("decodeStruct() reports every proper prefix as incomplete with a useful bound", () => {
  const bytes = encodeStruct(allSchema, { ...sample, s: "x".repeat(300), o: "tail" });
  for (let n = 0; n < bytes.length; n++) {
    const r = decodeStruct(allSchema, bytes.subarray(0, n));
    assert.equal(r.status, "incomplete", `prefix ${n}`);
    if (r.status === "incomplete") {
      assert.ok(r.needed > n && r.needed <= bytes.length, `prefix ${n}: needed ${r.needed}`);
    }
  }
  const offset = new Uint8Array(5 + bytes.length);
  offset.set(bytes, 5);
  const r = decodeStruct(allSchema, offset, 5);
  assert.equal(r.status === "ok" && r.bytesRead, bytes.length);
  const partial = decodeStruct(allSchema, offset.subarray(0, 20), 5);
  assert.ok(partial.status === "incomplete" && partial.needed > 15);
});

Deno.test("decodeStruct() does not allocate for lying lengths", () => {
  assert.equal(decodeValue("bytes", "dbffffffff").status, "incomplete");
  assert.equal(decodeValue("bytes", "ddffffffff").status, "incomplete");
  const r = decodeStruct(one("u8"), unhex("dfffffffff"));
  assert.ok(r.status === "incomplete" && r.needed === 6);
});

Deno.test("decodeStruct() skips deeply nested unknown values without recursion", () => {
  const depth = 200_000;
  const bytes = new Uint8Array(4 + depth + 1);
  bytes.set(unhex("81a178"));
  bytes.fill(0x91, 3, 3 + depth); // [[[[...]]]]
  bytes[3 + depth] = 0xc0;
  const r = decodeStruct(one("u8"), bytes.subarray(0, 4 + depth));
  assert.deepEqual(r, { status: "ok", value: { v: 0 }, bytesRead: 4 + depth });
});

Deno.test("decodeStruct() never throws on random input", () => {
  const random = new SeededRandom(42);
  const counts = { ok: 0, incomplete: 0, malformed: 0 };
  for (let i = 0; i < 20_000; i++) {
    const bytes = new Uint8Array(1 + Math.floor(random.next() * 40));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random.next() * 256);
    if (i % 2 === 0) bytes[0] = 0x80 | (bytes[0] & 0x0f); // mostly maps, to reach the fields
    counts[decodeStruct(allSchema, bytes).status]++;
  }
  assert.ok(counts.ok > 0 && counts.incomplete > 0 && counts.malformed > 0, JSON.stringify(counts));
});

Deno.test("encodeStruct() and decodeStruct() treat ASCII and non-ASCII strings alike", () => {
  const schema = one("string");
  const samples = ["", "n1", "10.0.0.1", "a".repeat(64), "b".repeat(65), "nœud-ü", "é".repeat(40)];
  for (const v of samples) {
    const bytes = encodeStruct(schema, { v });
    const utf8 = new TextEncoder().encode(v);
    assert.deepEqual(bytes.subarray(bytes.length - utf8.length), utf8, `bytes of ${v}`);
    const decoded = decodeStruct(schema, bytes);
    assert.equal(decoded.status === "ok" && (decoded.value as One).v, v);
  }
  // Invalid UTF-8 decodes to U+FFFD, short or long.
  for (const raw of ["a1c2ff", "da0041" + "ff".repeat(65)]) {
    const decoded = decodeStruct(schema, unhex("81a156" + raw));
    assert.ok(decoded.status === "ok" && ((decoded.value as One).v as string).includes("\ufffd"));
  }
});

Deno.test("decodeStruct() decodes many distinct short names right (string cache collisions)", () => {
  const schema = defineStruct<{ name: string }>("named", [
    { prop: "name", goName: "Name", kind: "string" },
  ]);
  const random = new SeededRandom(5);
  const names = Array.from({ length: 40_000 }, (_, i) =>
    // Same lengths, similar prefixes, some repeated: the cache must never hand back a neighbour.
    i % 5 === 0 ? `node-${i % 1000}` : `n${Math.floor(random.next() * 1e9).toString(36)}-${i}`);
  for (const round of [0, 1]) {
    for (const name of names) {
      const r = decodeStruct(schema, encodeStruct(schema, { name }));
      assert.equal(r.status === "ok" && r.value.name, name, `round ${round}`);
    }
  }
});
