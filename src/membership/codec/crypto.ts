/**
 * memberlist's payload encryption (§4.5, §5.1): AES-GCM (128, 192 or 256 by key length) with a
 * 12-byte random nonce and a 16-byte tag, framed `[vsn u8][nonce][ciphertext‖tag]`. Version 0
 * PKCS#7-pads the plaintext to a multiple of 16 first (Go sends it to protocol-version-1 peers);
 * version 1 does not. Both are accepted on receipt. The AAD is supplied by the caller: the label
 * for packets, the `[0x0A][len u32]` frame header plus the label for streams.
 *
 * WebCrypto's AES-GCM output with a 128-bit tag is `ciphertext‖tag`, the same layout as Go's
 * `gcm.Seal`, so frames are byte-identical to Go's for the same key, nonce and AAD.
 *
 * @module
 */

/** Frame versions: 0 = PKCS#7-padded plaintext, 1 = unpadded. */
export type EncryptionVersion = 0 | 1;

/** Highest frame version understood. */
export const ENCRYPTION_VERSION_MAX = 1;
/** Bytes of the GCM nonce carried after the version byte. */
export const NONCE_SIZE = 12;
/** Bytes of the GCM authentication tag at the end of the frame. */
export const TAG_SIZE = 16;

const BLOCK_SIZE = 16;
const HEADER_SIZE = 1 + NONCE_SIZE;

/** Whether `length` is a valid AES key length (16, 24 or 32 bytes). */
export function isAesKeyLength(length: number): boolean {
  return length === 16 || length === 24 || length === 32;
}

/**
 * Imports raw key bytes as a non-extractable AES-GCM key. Rejects with a `RangeError` unless
 * the key is 16, 24 or 32 bytes long.
 */
export async function importAesGcmKey(raw: Uint8Array): Promise<CryptoKey> {
  if (!isAesKeyLength(raw.length)) {
    throw new RangeError(
      `Cannot import key: length must be 16, 24 or 32 bytes: received ${raw.length}`,
    );
  }
  return await crypto.subtle.importKey("raw", raw.slice(), "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

/** Most bytes a version adds to a plaintext: 45 for version 0 (pad ≤ 16), 29 for version 1. */
export function encryptionOverhead(version: EncryptionVersion): number {
  return HEADER_SIZE + TAG_SIZE + (version === 0 ? BLOCK_SIZE : 0);
}

/** Exact frame length for a plaintext of `plainLength` bytes. */
export function sealedLength(version: EncryptionVersion, plainLength: number): number {
  const padding = version === 0 ? BLOCK_SIZE - (plainLength % BLOCK_SIZE) : 0;
  return HEADER_SIZE + plainLength + padding + TAG_SIZE;
}

/** A fresh random nonce (CSPRNG; never the injectable `Random`, which is not secret). */
export function randomNonce(): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
}

/**
 * Seals `plain` into `[version][nonce][ciphertext‖tag]`. `nonce` defaults to a random one; pass
 * one only to reproduce reference vectors (reusing a nonce with a key breaks GCM).
 */
export async function sealPayload(
  key: CryptoKey,
  plain: Uint8Array,
  aad: Uint8Array,
  version: EncryptionVersion,
  nonce: Uint8Array = randomNonce(),
): Promise<Uint8Array> {
  if (nonce.length !== NONCE_SIZE) {
    throw new RangeError(
      `Cannot encrypt payload: nonce must be ${NONCE_SIZE} bytes: received ${nonce.length}`,
    );
  }
  const input = version === 0 ? pad(plain) : plain.slice();
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce.slice(), additionalData: aad.slice(), tagLength: 128 },
      key,
      input,
    ),
  );
  const out = new Uint8Array(HEADER_SIZE + sealed.length);
  out[0] = version;
  out.set(nonce, 1);
  out.set(sealed, HEADER_SIZE);
  return out;
}

/**
 * Opens a frame with the first of `keys` that authenticates it (in order, as memberlist tries
 * its keyring) and strips version 0's padding. Rejects with a `RangeError` for a frame that is
 * too short, of an unknown version or badly padded, and with an `Error` when no key fits.
 */
export async function openPayload(
  keys: readonly CryptoKey[],
  sealed: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  if (sealed.length === 0) throw new RangeError("Cannot decrypt payload: empty");
  const version = sealed[0];
  if (version > ENCRYPTION_VERSION_MAX) {
    throw new RangeError(`Cannot decrypt payload: unsupported version: received ${version}`);
  }
  const min = sealedLength(version as EncryptionVersion, 0);
  if (sealed.length < min) {
    throw new RangeError(
      `Cannot decrypt payload: must be at least ${min} bytes: received ${sealed.length}`,
    );
  }
  // Version 0 ciphertexts are whole blocks. Go does not check, but its senders always pad; the
  // version byte is not authenticated, so this stops a flip of 1 to 0 truncating most frames.
  if (version === 0 && (sealed.length - HEADER_SIZE - TAG_SIZE) % BLOCK_SIZE !== 0) {
    throw new RangeError("Cannot decrypt payload: version 0 ciphertext is not whole blocks");
  }
  const params = {
    name: "AES-GCM",
    iv: sealed.slice(1, HEADER_SIZE),
    additionalData: aad.slice(),
    tagLength: 128,
  };
  const body = sealed.slice(HEADER_SIZE);
  for (const key of keys) {
    let plain: Uint8Array;
    try {
      plain = new Uint8Array(await crypto.subtle.decrypt(params, key, body));
    } catch {
      continue; // Not this key (or tampered): try the next one.
    }
    return version === 0 ? unpad(plain) : plain;
  }
  throw new Error(`Cannot decrypt payload: none of ${keys.length} keys authenticates it`);
}

/** PKCS#7: 1..16 bytes, each equal to the count, up to the next multiple of 16. */
function pad(plain: Uint8Array): Uint8Array<ArrayBuffer> {
  const more = BLOCK_SIZE - (plain.length % BLOCK_SIZE);
  const out = new Uint8Array(plain.length + more);
  out.set(plain);
  out.fill(more, plain.length);
  return out;
}

// Go strips `last byte` bytes without checking. The padding is authenticated, so only a key
// holder could send a bad one; refusing it anyway keeps a buggy peer from reading as garbage.
function unpad(padded: Uint8Array): Uint8Array {
  const more = padded.length > 0 ? padded[padded.length - 1] : 0;
  if (more < 1 || more > BLOCK_SIZE || more > padded.length) {
    throw new RangeError(`Cannot decrypt payload: bad PKCS#7 padding: received ${more}`);
  }
  return padded.subarray(0, padded.length - more);
}
