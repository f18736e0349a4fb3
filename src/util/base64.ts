/**
 * Standard base64 (RFC 4648, with padding) of bytes, over the runtime's `btoa`/`atob` so it works
 * alike in Deno, Node, browsers and Workers (the client imports it too). Encodes in chunks: a
 * spread of a large array into `String.fromCharCode` would overflow the call stack.
 *
 * @module
 */

const CHUNK = 0x8000;

/** `bytes` as base64 text. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** The bytes of base64 `text`; throws a `DOMException` (`InvalidCharacterError`) when it is not. */
export function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** `values` as base64 of their 16-bit little-endian bytes (as the topology's owner table). */
export function encodeUint16Base64(values: Uint16Array): string {
  const bytes = new Uint8Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    bytes[2 * i] = values[i] & 0xff;
    bytes[2 * i + 1] = values[i] >>> 8;
  }
  return encodeBase64(bytes);
}

/** The inverse of {@link encodeUint16Base64}; throws a `RangeError` on an odd byte count. */
export function decodeUint16Base64(text: string): Uint16Array {
  const bytes = decodeBase64(text);
  if (bytes.length % 2 !== 0) {
    throw new RangeError(`Cannot decode 16-bit values: odd byte count ${bytes.length}`);
  }
  const out = new Uint16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
  return out;
}
