/**
 * Small non-cryptographic hashes over UTF-16 code units, shared by the store (digests, record
 * fingerprints, key index) and replication (rendezvous placement). Changing any of them changes
 * what replicas compare and where keys are placed, so every node of a cluster must agree.
 *
 * - {@link hashLane1} / {@link hashLane2}: unseeded, identical in every process, for digest
 *   buckets and record fingerprints that replicas compare.
 * - {@link seededHash}: keyed by a per-store random seed, for the key index, so that a client
 *   cannot precompute keys that all collide in one probe run (V8 seeds its own string hashes for
 *   the same reason). This is a mitigation, not a cryptographic guarantee.
 *
 * @module
 */

/** Murmur3's 32-bit finaliser: full avalanche of a 32-bit value. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** First 32-bit lane of a string hash (FNV-1a over code units, then avalanched). */
export function hashLane1(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return fmix32(h ^ text.length);
}

/** Second, independent 32-bit lane of a string hash (different seed and multiplier). */
export function hashLane2(text: string): number {
  let h = 0x9747b28c;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x5bd1e995);
  return fmix32(h + text.length);
}

/** A 32-bit string hash keyed by `seed` (FNV-1a from a secret basis, then avalanched). */
export function seededHash(text: string, seed: number): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return fmix32(h ^ Math.imul(seed, 0x9e3779b1) ^ text.length);
}

/** Lane 1 of a record fingerprint from the key's and node name's lane 1 and the HLC. */
export function recordLane1(keyLane: number, hlc: number, nodeLane: number): number {
  const lo = hlc >>> 0;
  const hi = (hlc / 4294967296) >>> 0;
  return fmix32(keyLane ^ fmix32(lo ^ Math.imul(hi, 0x9e3779b1) ^ nodeLane));
}

/** Lane 2 of a record fingerprint (mixes the same inputs differently). */
export function recordLane2(keyLane: number, hlc: number, nodeLane: number): number {
  const lo = hlc >>> 0;
  const hi = (hlc / 4294967296) >>> 0;
  return fmix32(
    Math.imul(keyLane, 0x27d4eb2f) ^ fmix32(Math.imul(lo, 0x165667b1) ^ hi ^ nodeLane),
  );
}
