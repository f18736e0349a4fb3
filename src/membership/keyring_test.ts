// The keyring's rules (memberlist's AddKey/UseKey/RemoveKey) and its engine
// hooks through the real packet and stream codecs, against the reference vectors of §14.
import assert from "node:assert/strict";
import {
  decodePacket,
  encodePacket,
  encodeStreamMessage,
  MessageType,
  StreamReader,
} from "./codec/mod.ts";
import { importAesGcmKey, sealPayload } from "./codec/crypto.ts";
import { GOLDEN, hex, memoryConn, unhex, utf8 } from "./codec/test_helpers.ts";
import { Keyring, keyringEncryption } from "./keyring.ts";

const K1 = unhex(GOLDEN.aesKey);
const K2 = new Uint8Array(24).fill(2);
const K3 = new Uint8Array(32).fill(3);
const limits = { maxDecompressed: 1 << 20, maxParts: 64 };

Deno.test("Keyring keeps the primary first and ignores duplicates", () => {
  const ring = new Keyring([K1, K2, K1]);
  assert.equal(ring.size, 2);
  assert.deepEqual(ring.keys(), [K1, K2]);
  assert.deepEqual(ring.primaryKey(), K1);
  ring.addKey(K3);
  ring.addKey(K2);
  assert.deepEqual(ring.keys(), [K1, K2, K3]);
  assert.ok(ring.has(K3) && !ring.has(new Uint8Array(16)));
  // Copies in and out: mutating them changes nothing.
  ring.keys()[0][0] = 99;
  const k = K3.slice();
  const copied = new Keyring([k]);
  k[0] = 7;
  assert.deepEqual([ring.primaryKey(), copied.primaryKey()], [K1, K3]);
});

Deno.test("Keyring useKey() and removeKey() follow memberlist's rules", () => {
  const ring = new Keyring([K1, K2, K3]);
  ring.useKey(K3);
  assert.deepEqual(ring.keys(), [K3, K1, K2]);
  assert.throws(() => ring.useKey(new Uint8Array(16)), /not in the keyring/);
  assert.throws(() => ring.removeKey(K3), RangeError);
  assert.equal(ring.removeKey(K1), true);
  assert.equal(ring.removeKey(K1), false);
  assert.deepEqual(ring.keys(), [K3, K2]);
});

Deno.test("Keyring refuses no keys and keys that are not 16, 24 or 32 bytes", () => {
  assert.throws(() => new Keyring([]), /no keys/);
  assert.throws(() => new Keyring([new Uint8Array(20)]), /received 20$/);
  assert.throws(() => new Keyring([K1]).addKey(new Uint8Array(0)), RangeError);
});

Deno.test("Keyring encrypts with the primary key and decrypts with any installed key", async () => {
  const ring = new Keyring([K1, K2]);
  const plain = unhex(GOLDEN.ping);
  const aad = utf8("prod");
  const sealed = await ring.encrypt(plain, aad);
  // The same bytes as sealing with K1 and the nonce the ring drew: primary, version 1.
  const again = await sealPayload(await importAesGcmKey(K1), plain, aad, 1, sealed.subarray(1, 13));
  assert.equal(hex(sealed), hex(again));
  assert.equal((await ring.encrypt(plain, aad, 0)).length, 109);
  // A ring holding only K2 cannot read it; one that has K1 anywhere can.
  await assert.rejects(new Keyring([K2]).decrypt(sealed, aad), /authenticates/);
  assert.deepEqual(await new Keyring([K3, K2, K1]).decrypt(sealed, aad), plain);
  // After rotation the old ring's frames still open until the old key is removed.
  ring.addKey(K3);
  ring.useKey(K3);
  const rotated = await ring.encrypt(plain, aad);
  await assert.rejects(new Keyring([K1, K2]).decrypt(rotated, aad));
  assert.deepEqual(await ring.decrypt(sealed, aad), plain);
  ring.removeKey(K1);
  await assert.rejects(ring.decrypt(sealed, aad), /none of 2 keys/);
});

Deno.test("keyringEncryption() opens the reference packets and stream frames", async () => {
  const enc = keyringEncryption(new Keyring([new Uint8Array(16), K1]));
  const plain = await decodePacket(unhex(GOLDEN.ping), limits);
  assert.ok(plain.ok);
  const expected = plain.messages;
  const labelled = await decodePacket(unhex(GOLDEN.udpLabelledV1), {
    ...limits,
    label: "prod",
    decrypt: enc.decryptPacket,
  });
  assert.deepEqual(labelled, { ok: true, messages: expected, problems: [] });
  const v0 = await decodePacket(
    unhex(
      "00a0a1a2a3a4a5a6a7a8a9aaabaa039cf511ed56ace417d1656b701533369f6d6784bd6ec0506212fe03e9eb" +
        "da3ea945310e40bf020aac81a1e1b46db51a3a232d56acf747d159fbb88600541283457ecd617d9ac9db188" +
        "4b952224e8ba4d6e887b9557ec385bafdb7f8b46a2a",
    ),
    { ...limits, decrypt: enc.decryptPacket },
  );
  assert.deepEqual(v0, { ok: true, messages: expected, problems: [] });
  const stream = new StreamReader(memoryConn(unhex("f40470726f64" + GOLDEN.streamV1), 7), {
    maxBytes: 1 << 20,
    label: "prod",
    decrypt: enc.decryptStream,
    requireEncryption: true,
  });
  assert.equal(await stream.readLabel(), "prod");
  assert.deepEqual(await stream.readMessage(), expected[0]);
});

Deno.test("keyringEncryption() seals packets and streams that only a key holder opens", async () => {
  const enc = keyringEncryption(new Keyring([K1]));
  const stranger = keyringEncryption(new Keyring([K2]));
  const ping = unhex(GOLDEN.ping);
  const packet = await encodePacket([ping], {
    compress: true,
    crc: true,
    label: "prod",
    encrypt: enc.encryptPacket,
  });
  assert.equal(hex(packet.subarray(0, 7)), "f40470726f6401");
  assert.ok(packet.length <= 6 + ping.length + 5 + enc.packetOverhead);
  const opened = await decodePacket(packet, {
    ...limits,
    label: "prod",
    decrypt: enc.decryptPacket,
  });
  assert.ok(opened.ok && opened.messages[0].type === MessageType.ping);
  const refused = await decodePacket(packet, {
    ...limits,
    label: "prod",
    decrypt: stranger.decryptPacket,
  });
  assert.equal(!refused.ok && refused.error.reason, "decrypt");
  const framed = await encodeStreamMessage(ping, {
    compress: true,
    label: "prod",
    encrypt: enc.streamSealer,
  });
  const read = (decrypt: typeof enc.decryptStream) => {
    const r = new StreamReader(memoryConn(framed), { maxBytes: 1 << 20, label: "prod", decrypt });
    return r.readLabel().then(() => r.readMessage());
  };
  assert.equal((await read(enc.decryptStream)).type, MessageType.ping);
  await assert.rejects(read(stranger.decryptStream), { reason: "decrypt" });
});

Deno.test("keyringEncryption() pads (version 0) only for protocol version 1", async () => {
  const ring = new Keyring([K1]);
  const v1 = keyringEncryption(ring);
  const v0 = keyringEncryption(ring, { protocolVersion: 1 });
  assert.deepEqual([v1.packetOverhead, v0.packetOverhead], [29, 45]);
  assert.deepEqual([v1.streamSealer.sealedLength(69), v0.streamSealer.sealedLength(69)], [98, 109]);
  const sealed = await v0.encryptPacket(unhex(GOLDEN.ping), new Uint8Array(0));
  assert.deepEqual([sealed[0], sealed.length], [0, 109]);
  // Both versions are read by either adapter.
  assert.equal(hex(await v1.decryptPacket(sealed, new Uint8Array(0))), GOLDEN.ping);
});
