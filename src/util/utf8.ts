/**
 * UTF-8 byte length of a JS string without encoding it (the byte budget counts text as UTF-8).
 *
 * @module
 */

import { Buffer } from "node:buffer";

// Below this length a JS loop beats the native call's fixed cost; above it the native path wins
// by far (measured: docs/benchmarks.md, "Store micro-benchmarks and the eviction choice").
const NATIVE_FROM = 32;

/**
 * The number of bytes `new TextEncoder().encode(text)` would produce: 1 per code point below
 * U+0080, 2 below U+0800, 4 per surrogate pair and 3 otherwise (a lone surrogate becomes the
 * 3-byte U+FFFD).
 */
export function utf8ByteLength(text: string): number {
  const n = text.length;
  if (n >= NATIVE_FROM) return Buffer.byteLength(text, "utf8");
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c < 0xdc00 && c >= 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // two UTF-16 units already counted, four bytes in UTF-8
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}
