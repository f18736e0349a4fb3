// AES-GCM frames against the reference vectors of §14 (made by Go memberlist with a fixed nonce),
// and the refusals: wrong key, wrong AAD, truncated, tampered, bad version, bad padding.
import assert from "node:assert/strict";
import {
  encryptionOverhead,
  importAesGcmKey,
  openPayload,
  randomNonce,
  sealedLength,
  sealPayload,
} from "./crypto.ts";
import { GOLDEN, hex, unhex, utf8 } from "./test_helpers.ts";

const key = () => importAesGcmKey(unhex(GOLDEN.aesKey));
const otherKey = () => importAesGcmKey(unhex("0f0e0d0c0b0a09080706050403020100"));
const ping = unhex(GOLDEN.ping);
const nonce = unhex(GOLDEN.nonce);
// The vectors without what surrounds the sealed frame: the label header, the stream header.
const udpV1 = unhex(GOLDEN.udpLabelledV1).subarray(6);
const streamHeader = unhex(GOLDEN.streamV1).subarray(0, 5);
const streamV1 = unhex(GOLDEN.streamV1).subarray(5);
const udpV0 = unhex(
  "00a0a1a2a3a4a5a6a7a8a9aaabaa039cf511ed56ace417d1656b701533369f6d6784bd6ec0506212fe03e9ebda3ea945" +
    "310e40bf020aac81a1e1b46db51a3a232d56acf747d159fbb88600541283457ecd617d9ac9db1884b952224e8ba4d6e8" +
    "87b9557ec385bafdb7f8b46a2a",
);
const streamAad = new Uint8Array([...streamHeader, ...utf8("prod")]);

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

Deno.test("sealPayload() reproduces the reference frames byte for byte (fixed nonce)", async () => {
  const k = await key();
  assert.equal(hex(await sealPayload(k, ping, utf8("prod"), 1, nonce)), hex(udpV1));
  assert.equal(hex(await sealPayload(k, ping, streamAad, 1, nonce)), hex(streamV1));
  assert.equal(hex(await sealPayload(k, ping, new Uint8Array(0), 0, nonce)), hex(udpV0));
  assert.equal(udpV0.length, 109);
  assert.equal(sealedLength(0, ping.length), udpV0.length);
  assert.equal(sealedLength(1, ping.length), streamV1.length);
  // The stream header announces the sealed length (0x62 = 98).
  assert.equal(new DataView(streamHeader.buffer).getUint32(1), sealedLength(1, ping.length));
});

Deno.test("openPayload() opens the reference frames, version 0 and 1", async () => {
  const keys = [await key()];
  assert.equal(hex(await openPayload(keys, udpV1, utf8("prod"))), GOLDEN.ping);
  assert.equal(hex(await openPayload(keys, streamV1, streamAad)), GOLDEN.ping);
  assert.equal(hex(await openPayload(keys, udpV0, new Uint8Array(0))), GOLDEN.ping);
});

Deno.test("openPayload() tries every key in order", async () => {
  const [right, wrong] = [await key(), await otherKey()];
  assert.equal(hex(await openPayload([wrong, right], udpV1, utf8("prod"))), GOLDEN.ping);
  const e = await rejection(openPayload([wrong], udpV1, utf8("prod")));
  assert.match(e.message, /none of 1 keys authenticates it/);
  await assert.rejects(openPayload([], udpV1, utf8("prod")), /none of 0 keys/);
});

Deno.test("openPayload() refuses a frame under other associated data", async () => {
  const keys = [await key()];
  await assert.rejects(openPayload(keys, udpV1, new Uint8Array(0)), /authenticates/);
  await assert.rejects(openPayload(keys, udpV1, utf8("prot")), /authenticates/);
  const otherLength = streamAad.slice();
  otherLength[4]++;
  await assert.rejects(openPayload(keys, streamV1, otherLength), /authenticates/);
});

Deno.test("openPayload() refuses every tampered byte and every truncation", async () => {
  const keys = [await key()];
  for (const frame of [udpV1, udpV0]) {
    const aad = frame === udpV1 ? utf8("prod") : new Uint8Array(0);
    for (let i = frame === udpV0 ? 1 : 0; i < frame.length; i++) {
      const bad = frame.slice();
      bad[i] ^= 0x01;
      await assert.rejects(openPayload(keys, bad, aad), `byte ${i} of vsn ${frame[0]}`);
    }
    for (let n = 0; n < frame.length; n++) {
      await assert.rejects(openPayload(keys, frame.subarray(0, n), aad), `first ${n} bytes`);
    }
    const longer = new Uint8Array([...frame, 0]);
    await assert.rejects(openPayload(keys, longer, aad));
  }
});

Deno.test("openPayload() is bound by the format: the version byte is not authenticated", async () => {
  const keys = [await key()];
  // Version 0 read as 1 opens, padding included (as in Go); the message decoder sees the padding
  // as trailing bytes. Version 1 read as 0 is refused unless its length is whole blocks.
  const asV1 = udpV0.slice();
  asV1[0] = 1;
  const padded = await openPayload(keys, asV1, new Uint8Array(0));
  assert.equal(hex(padded), GOLDEN.ping + "0b".repeat(11));
  const asV0 = udpV1.slice();
  asV0[0] = 0;
  const e = await rejection(openPayload(keys, asV0, utf8("prod")));
  assert.ok(e instanceof RangeError && /whole blocks/.test(e.message));
});

Deno.test("openPayload() refuses malformed frames with a RangeError before trying keys", async () => {
  const keys = [await key()];
  const aad = new Uint8Array(0);
  const empty = await rejection(openPayload(keys, new Uint8Array(0), aad));
  assert.ok(empty instanceof RangeError && /empty/.test(empty.message));
  const v2 = udpV1.slice();
  v2[0] = 2;
  const unsupported = await rejection(openPayload(keys, v2, aad));
  assert.ok(unsupported instanceof RangeError);
  assert.match(unsupported.message, /unsupported version: received 2/);
  const short = await rejection(openPayload(keys, udpV0.subarray(0, 44), aad));
  assert.match(short.message, /at least 45 bytes: received 44/);
  const shortV1 = await rejection(openPayload(keys, udpV1.subarray(0, 28), aad));
  assert.match(shortV1.message, /at least 29 bytes: received 28/);
});

Deno.test("openPayload() refuses authenticated version-0 frames with bad padding", async () => {
  const k = await key();
  const aad = new Uint8Array(0);
  // Sealed as version 1 (no padding) then relabelled 0 is refused by the tag (version is not
  // authenticated, but the plaintext then must carry valid padding: build that case by hand).
  for (const last of [0, 17, 200]) {
    const plain = new Uint8Array(32).fill(last);
    const sealed = await sealPayload(k, plain, aad, 1, nonce);
    sealed[0] = 0;
    const e = await rejection(openPayload([k], sealed, aad));
    assert.ok(e instanceof RangeError && /PKCS#7/.test(e.message), `${last}: ${e.message}`);
  }
  const good = await sealPayload(k, new Uint8Array(32).fill(16), aad, 1, nonce);
  good[0] = 0;
  assert.equal((await openPayload([k], good, aad)).length, 16);
});

Deno.test("sealPayload() round-trips every size with AES-128, -192 and -256, both versions", async () => {
  for (const bytes of [16, 24, 32]) {
    const k = await importAesGcmKey(crypto.getRandomValues(new Uint8Array(bytes)));
    for (const version of [0, 1] as const) {
      for (const size of [0, 1, 15, 16, 17, 31, 32, 1400]) {
        const plain = crypto.getRandomValues(new Uint8Array(size));
        const sealed = await sealPayload(k, plain, utf8("aad"), version);
        assert.equal(sealed.length, sealedLength(version, size));
        assert.ok(sealed.length - size <= encryptionOverhead(version));
        assert.deepEqual(await openPayload([k], sealed, utf8("aad")), plain);
      }
    }
  }
});

Deno.test("sealPayload() draws a fresh nonce each time", async () => {
  const k = await key();
  const a = await sealPayload(k, ping, new Uint8Array(0), 1);
  const b = await sealPayload(k, ping, new Uint8Array(0), 1);
  assert.notEqual(hex(a.subarray(1, 13)), hex(b.subarray(1, 13)));
  assert.notEqual(hex(randomNonce()), hex(randomNonce()));
  await assert.rejects(sealPayload(k, ping, new Uint8Array(0), 1, new Uint8Array(8)), RangeError);
});

Deno.test("importAesGcmKey() accepts only 16, 24 or 32 bytes", async () => {
  for (const bad of [0, 8, 15, 17, 31, 33, 64]) {
    const e = await rejection(importAesGcmKey(new Uint8Array(bad)));
    assert.ok(e instanceof RangeError);
    assert.match(e.message, new RegExp(`received ${bad}$`));
  }
  assert.equal(encryptionOverhead(0), 45);
  assert.equal(encryptionOverhead(1), 29);
});
