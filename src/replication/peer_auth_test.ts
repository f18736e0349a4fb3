import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { FRAME_TAG_BYTES, MAX_CLOCK_SKEW_MS, PeerAuth, type PeerAuthOptions } from "./peer_auth.ts";

const key = (fill: number, n = 32) => new Uint8Array(n).fill(fill);
const OLD = key(1);
const NEXT = key(2, 16);
const OTHER = key(3);
const body = new TextEncoder().encode("batch");

async function auth(keys: Uint8Array[], options: Partial<PeerAuthOptions> = {}) {
  return await PeerAuth.fromKeys(keys, { clock: new VirtualClock(1_700_000_000_000), ...options });
}

Deno.test("PeerAuth accepts requests signed with any key of the ring and refuses others", async () => {
  const sender = await auth([OLD]);
  const sent = sender.signRequest("POST", "/internal/replicate", body)!;
  assert.match(sent.header, /^v1 \d+ [\w-]{22} [\w-]{43}$/);
  assert.equal(
    (await auth([OLD])).verifyRequest(sent.header, "POST", "/internal/replicate", body).ok,
    true,
  );
  // Rotation: the receiver still has the old key as primary and the next as a secondary...
  const rotating = await auth([NEXT, OLD]);
  const next = rotating.signRequest("POST", "/internal/replicate", body)!;
  const receiver = await auth([OLD, NEXT]);
  const grant = receiver.verifyRequest(next.header, "POST", "/internal/replicate", body);
  assert.deepEqual(grant, { ok: true, key: 1, nonce: next.nonce });
  // ... and its answer is signed with the key that verified the request.
  const answer = new Uint8Array([7]);
  const answerHeader = receiver.signAnswer(
    grant as { ok: true; key: number; nonce: string },
    200,
    answer,
  )!;
  assert.equal(rotating.verifyAnswer(next, answerHeader, 200, answer), true);
  assert.equal(rotating.verifyAnswer(next, answerHeader, 200, new Uint8Array([8])), false);
  assert.equal(rotating.verifyAnswer(next, answerHeader, 400, answer), false);
  assert.equal(rotating.verifyAnswer(next, null, 200, answer), false);

  const stranger = await auth([OTHER]);
  const refused = stranger.verifyRequest(sent.header, "POST", "/internal/replicate", body);
  assert.deepEqual(refused, {
    ok: false,
    reason: "Invalid replication signature: no key of this node matches",
  });
});

Deno.test("PeerAuth binds the signature to method, path, body and label", async () => {
  const a = await auth([OLD]);
  const sent = a.signRequest("POST", "/internal/replicate", body)!;
  assert.equal(a.verifyRequest(sent.header, "POST", "/internal/sync", body).ok, false);
  assert.equal(a.verifyRequest(sent.header, "GET", "/internal/replicate", body).ok, false);
  assert.equal(
    a.verifyRequest(sent.header, "POST", "/internal/replicate", new Uint8Array([1])).ok,
    false,
  );
  const labelled = await auth([OLD], { label: "blue" });
  assert.equal(labelled.verifyRequest(sent.header, "POST", "/internal/replicate", body).ok, false);
});

Deno.test("PeerAuth refuses missing, malformed and stale signatures before the body is read", async () => {
  const clock = new VirtualClock(1_700_000_000_000);
  const a = await auth([OLD], { clock });
  assert.match(a.precheck(null)?.reason ?? "", /^Missing replication signature/);
  assert.match(a.precheck("Bearer x")?.reason ?? "", /^Malformed/);
  const sent = a.signRequest("GET", "/internal/stream")!;
  assert.equal(a.precheck(sent.header), undefined);
  clock.advance(MAX_CLOCK_SKEW_MS + 1);
  assert.equal(a.verifyRequest(sent.header, "GET", "/internal/stream").ok, false);
  assert.match(a.precheck(sent.header)?.reason ?? "", /out of date: 60001 ms/);
});

Deno.test("PeerAuth follows the migration flags: unsigned accepted only without requireSigned", async () => {
  const lax = await auth([OLD], { requireSigned: false, sign: false });
  assert.equal(lax.signRequest("POST", "/internal/sync", body), undefined);
  assert.deepEqual(lax.verifyRequest(null, "POST", "/internal/sync", body), { ok: true });
  assert.equal(lax.signAnswer({ ok: true }, 200, body), undefined);
  // A signed request is still checked.
  const stranger = (await auth([OTHER])).signRequest("POST", "/internal/sync", body)!;
  assert.equal(lax.verifyRequest(stranger.header, "POST", "/internal/sync", body).ok, false);
  // A signing node that does not require signatures takes an unsigned answer (an unkeyed peer).
  const migrating = await auth([OLD], { requireSigned: false });
  const sent = migrating.signRequest("POST", "/internal/sync", body)!;
  assert.equal(migrating.verifyAnswer(sent, null, 200, body), true);
  assert.equal(migrating.verifyAnswer(sent, "v1 " + "A".repeat(43), 200, body), false);
});

Deno.test("PeerAuth frame sealers tag each direction of one socket", async () => {
  const client = await auth([NEXT, OLD]);
  const server = await auth([OLD, NEXT]);
  const sent = client.signRequest("GET", "/internal/stream")!;
  const grant = server.verifyRequest(sent.header, "GET", "/internal/stream");
  assert.ok(grant.ok && grant.key !== undefined && grant.nonce !== undefined);
  const c = client.frameSealer(sent.key, sent.nonce, "client");
  const s = server.frameSealer(grant.key, grant.nonce, "server");
  const frame = Uint8Array.of(0, 0, 0, 1, 9, 9);
  const sealed = c.seal(frame);
  assert.equal(sealed.byteLength, frame.byteLength + FRAME_TAG_BYTES);
  assert.deepEqual(s.open(sealed), frame);
  assert.deepEqual(c.open(s.seal(frame)), frame);
  // Reflected frames, tampered frames and frames of another socket are refused.
  assert.equal(c.open(sealed), undefined);
  const tampered = sealed.slice();
  tampered[4] ^= 1;
  assert.equal(s.open(tampered), undefined);
  assert.equal(s.open(frame.subarray(0, 3)), undefined);
  const other = client.signRequest("GET", "/internal/stream")!;
  assert.equal(s.open(client.frameSealer(0, other.nonce, "client").seal(frame)), undefined);
});

Deno.test("PeerAuth.fromKeys refuses an empty keyring", async () => {
  await assert.rejects(() => auth([]), /no keys: received an empty keyring/);
});

Deno.test("PeerAuth accepts a signed purge once; other routes may repeat", async () => {
  const clock = new VirtualClock(1_700_000_000_000);
  const sender = await auth([OLD], { clock });
  const receiver = await auth([OLD], { clock });
  const purge = sender.signRequest("POST", "/internal/purge", body)!;
  assert.equal(receiver.verifyRequest(purge.header, "POST", "/internal/purge", body).ok, true);
  const replay = receiver.verifyRequest(purge.header, "POST", "/internal/purge", body);
  assert.deepEqual(replay, {
    ok: false,
    reason: "Replayed replication request: its nonce was used already",
  });
  const fresh = sender.signRequest("POST", "/internal/purge", body)!;
  assert.equal(receiver.verifyRequest(fresh.header, "POST", "/internal/purge", body).ok, true);
  const batch = sender.signRequest("POST", "/internal/replicate", body)!;
  for (let i = 0; i < 2; i++) {
    assert.equal(
      receiver.verifyRequest(batch.header, "POST", "/internal/replicate", body).ok,
      true,
    );
  }
  // Once out of date, the signature is refused as such, and the nonce forgotten.
  clock.advance(MAX_CLOCK_SKEW_MS + 1);
  const late = receiver.verifyRequest(purge.header, "POST", "/internal/purge", body);
  assert.match(late.ok ? "" : late.reason, /out of date/);
  const later = sender.signRequest("POST", "/internal/purge", body)!;
  assert.equal(receiver.verifyRequest(later.header, "POST", "/internal/purge", body).ok, true);
});
