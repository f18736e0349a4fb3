// The encryption hooks wired through packets and streams. A toy cipher (XOR plus a checksum tag,
// same frame sizes as AES-GCM version 1) keeps the test synchronous and deterministic; the real
// keyring and AES-GCM are a separate piece.
import assert from "node:assert/strict";
import { crc32 } from "./codec/mod.ts";
import { lanConfig } from "./config.ts";
import type { MembershipEncryption } from "./memberlist.ts";
import { TestCluster } from "./testing/cluster.ts";

const OVERHEAD = 1 + 12 + 16;

function toyEncryption(key: number): MembershipEncryption {
  const tag = (plain: Uint8Array, aad: Uint8Array) => {
    const t = new Uint8Array(16);
    new DataView(t.buffer).setUint32(0, crc32(aad, crc32(plain, key)));
    return t;
  };
  const seal = (plain: Uint8Array, aad: Uint8Array) => {
    const out = new Uint8Array(plain.length + OVERHEAD);
    out[0] = 1;
    out.set(plain.map((b) => b ^ key), 13);
    out.set(tag(plain, aad), 13 + plain.length);
    return Promise.resolve(out);
  };
  const open = (sealed: Uint8Array, aad: Uint8Array) => {
    if (sealed.length < OVERHEAD || sealed[0] !== 1) {
      return Promise.reject(new Error("not encrypted"));
    }
    const plain = sealed.slice(13, sealed.length - 16).map((b) => b ^ key);
    const expected = tag(plain, aad);
    const got = sealed.subarray(sealed.length - 16);
    if (!expected.every((b, i) => b === got[i])) return Promise.reject(new Error("bad tag"));
    return Promise.resolve(plain);
  };
  return {
    encryptPacket: seal,
    decryptPacket: open,
    streamSealer: { sealedLength: (n) => n + OVERHEAD, seal },
    decryptStream: open,
    packetOverhead: OVERHEAD,
  };
}

Deno.test("Memberlist encrypts packets and streams through the encryption hooks", async () => {
  const c = new TestCluster({ seed: 41 });
  const firstBytes = new Set<number>();
  c.net.tap((e) => void firstBytes.add(e.data[0]));
  const options = { encryption: toyEncryption(0x5a) };
  await c.start(["n0"], { options });
  await c.start(["n1", "n2"], { seeds: ["n0"], options });
  assert.notEqual(await c.until(() => c.allSee("alive"), 10_000), undefined);
  await c.run(5_000);
  // Every datagram is a sealed frame (version byte 1), never a plaintext message type.
  assert.deepEqual([...firstBytes], [1]);
  assert.ok(c.node("n0").ml.stats.pushPullsIn >= 2);
  await c.close();
});

Deno.test("Memberlist with a key refuses peers without it, unless gossipVerifyIncoming is off", async () => {
  const c = new TestCluster({ seed: 42 });
  const key = { encryption: toyEncryption(0x5a) };
  const [secure] = await c.start(["secure"], { options: key });
  const [plain] = await c.start(["plain"], { seeds: ["secure"] });
  const [wrongKey] = await c.start(["wrong"], {
    seeds: ["secure"],
    options: { encryption: toyEncryption(0x33) },
  });
  await c.run(10_000);
  assert.equal(secure.ml.numMembers(), 1);
  assert.equal(plain.ml.numMembers(), 1);
  assert.equal(wrongKey.ml.numMembers(), 1);
  assert.ok((secure.ml.stats.streamErrors.decrypt ?? 0) >= 2, JSON.stringify(secure.ml.stats));
  // Migration mode: accepts plaintext, sends plaintext.
  const [open] = await c.start(["migrating"], {
    options: key,
    config: { gossipVerifyIncoming: false, gossipVerifyOutgoing: false },
  });
  await c.start(["plain2"], { seeds: ["migrating"] });
  assert.notEqual(
    await c.until(() => c.allSee("alive", ["migrating", "plain2"], ["migrating", "plain2"]), 5_000),
    undefined,
  );
  assert.equal(open.ml.numMembers(), 2);
  await c.close();
});

Deno.test("Memberlist counts the encryption overhead in the packet budget", async () => {
  const c = new TestCluster({
    seed: 43,
    config: lanConfig({ udpBufferSize: 600, enableCompression: false }),
  });
  let largest = 0;
  c.net.tap((e) => void (largest = Math.max(largest, e.data.length)));
  const options = { encryption: toyEncryption(7) };
  await c.start(["n0"], { options });
  await c.start(Array.from({ length: 11 }, (_, i) => `n${i + 1}`), { seeds: ["n0"], options });
  assert.notEqual(await c.until(() => c.allSee("alive"), 20_000), undefined);
  // Gossip packets are filled to the budget; sealed, they still fit udpBufferSize.
  assert.ok(largest <= 600, `largest datagram ${largest}`);
  assert.ok(largest > 560, `budget not used: ${largest}`);
  await c.close();
});
