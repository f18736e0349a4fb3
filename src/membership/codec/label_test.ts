import assert from "node:assert/strict";
import { addLabelHeader, checkInboundLabel, encodeLabelHeader, stripLabelHeader } from "./label.ts";
import { GOLDEN, hex, unhex, utf8 } from "./test_helpers.ts";

Deno.test("addLabelHeader() prefixes [0xF4][L][label] and leaves unlabelled data alone", () => {
  const ping = unhex(GOLDEN.ping);
  assert.equal(hex(addLabelHeader("prod", ping)), "f40470726f64" + GOLDEN.ping);
  assert.equal(addLabelHeader("", ping), ping);
  assert.equal(hex(encodeLabelHeader("prod")), "f40470726f64");
  assert.equal(encodeLabelHeader("").length, 0);
  assert.equal(encodeLabelHeader("x".repeat(255)).length, 257);
  assert.throws(() => encodeLabelHeader("x".repeat(256)), RangeError);
  assert.throws(() => encodeLabelHeader("é".repeat(128)), RangeError); // 256 bytes
});

Deno.test("stripLabelHeader() reads the label and where the message starts", () => {
  const r = stripLabelHeader(unhex("f40470726f64" + GOLDEN.nack));
  assert.deepEqual(r, { status: "ok", label: utf8("prod"), bytesRead: 6 });
  assert.deepEqual(stripLabelHeader(unhex(GOLDEN.nack)), {
    status: "ok",
    label: new Uint8Array(0),
    bytesRead: 0,
  });
  assert.deepEqual(stripLabelHeader(new Uint8Array(0)).status, "ok");
});

Deno.test("stripLabelHeader() reports short headers as incomplete and L = 0 as malformed", () => {
  assert.deepEqual(stripLabelHeader(unhex("f4")), { status: "incomplete", needed: 2 });
  assert.deepEqual(stripLabelHeader(unhex("f40470")), { status: "incomplete", needed: 6 });
  assert.equal(stripLabelHeader(unhex("f40000")).status, "malformed");
});

Deno.test("checkInboundLabel() applies memberlist's label rule", () => {
  const none = new Uint8Array(0);
  assert.deepEqual(checkInboundLabel(none, {}), none);
  assert.deepEqual(checkInboundLabel(utf8("prod"), { label: "prod" }), utf8("prod"));
  assert.ok(checkInboundLabel(utf8("dev"), { label: "prod" }) instanceof RangeError);
  assert.ok(checkInboundLabel(none, { label: "prod" }) instanceof RangeError);
  assert.ok(checkInboundLabel(utf8("prod"), {}) instanceof RangeError);
  const skip = { label: "prod", skipInboundLabelCheck: true };
  assert.deepEqual(checkInboundLabel(none, skip), utf8("prod"));
  assert.ok(checkInboundLabel(utf8("prod"), skip) instanceof RangeError);
});
