/**
 * Test-only helpers for the codec tests: hex conversion, the golden vectors of the protocol
 * reference (re-exported from `golden.ts`, which the fuzzer also reads), and an in-memory stream
 * source.
 *
 * @module
 */

import { unhex } from "./golden.ts";

export { GOLDEN, unhex } from "./golden.ts";

/** Lower-case hex of `bytes`. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** IPv4 10.0.0.1 as 4 bytes. */
export const IP4 = unhex("0a000001");
/** Vsn `[1, 5, 2, 0, 0, 0]`. */
export const VSN = unhex("010502000000");

/** A read-only in-memory connection handing out `bytes` at most `chunk` bytes per read. */
export function memoryConn(bytes: Uint8Array, chunk = Infinity) {
  let pos = 0;
  let reads = 0;
  return {
    get reads() {
      return reads;
    },
    read(buf: Uint8Array): Promise<number | null> {
      reads++;
      if (pos >= bytes.length) return Promise.resolve(null);
      const n = Math.min(buf.length, chunk, bytes.length - pos);
      buf.set(bytes.subarray(pos, pos + n));
      pos += n;
      return Promise.resolve(n);
    },
  };
}

/** AES-GCM sealing with a fixed nonce, as the reference vectors were made (tests only). */
export async function fixedNonceSealer(keyHex: string, nonceHex: string) {
  const key = await crypto.subtle.importKey("raw", unhex(keyHex), "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
  const nonce = unhex(nonceHex);
  return {
    sealedLength: (n: number) => 1 + 12 + n + 16,
    async seal(plain: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
      const params = { name: "AES-GCM", iv: nonce, additionalData: aad.slice(), tagLength: 128 };
      const ct = new Uint8Array(await crypto.subtle.encrypt(params, key, plain.slice()));
      const out = new Uint8Array(13 + ct.length);
      out[0] = 1;
      out.set(nonce, 1);
      out.set(ct, 13);
      return out;
    },
    async open(sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
      if (sealed[0] !== 1) throw new RangeError("unsupported vsn");
      const iv = sealed.slice(1, 13);
      const params = { name: "AES-GCM", iv, additionalData: aad.slice(), tagLength: 128 };
      return new Uint8Array(await crypto.subtle.decrypt(params, key, sealed.slice(13)));
    },
  };
}
