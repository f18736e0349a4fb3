/**
 * Compound messages (type 7, §4.2): several messages in one UDP packet.
 * `[0x07][count u8][len u16 BE × count][msg_1]…[msg_count]`. A count byte caps a compound at 255
 * parts and u16 lengths cap a part below 64 KiB. A compound cut short still yields the parts that
 * arrived whole, as in Go, which logs the truncation and processes what it has.
 *
 * @module
 */

import { byteSlab } from "../../util/byte_slab.ts";
import { MessageType } from "./messages.ts";

/** Most parts one compound message can carry. */
export const MAX_COMPOUND_PARTS = 255;
/** Largest part, in bytes (lengths travel as u16). */
export const MAX_COMPOUND_PART_LENGTH = 0xffff;
/** Fixed bytes of a compound (type byte + count), for packet budgets. */
export const COMPOUND_HEADER_OVERHEAD = 2;
/** Bytes a compound adds per part (its u16 length), for packet budgets. */
export const COMPOUND_PART_OVERHEAD = 2;

/** Result of {@link decodeCompound}. */
export type CompoundDecodeResult =
  | {
    ok: true;
    /** Whole parts in order (views into the input, not copies). */
    parts: Uint8Array[];
    /** Parts declared but cut off by the end of the input (0 when intact). */
    truncated: number;
  }
  | { ok: false; error: RangeError };

/**
 * Encodes `messages` (each a full message with its type byte) as one compound message. Throws a
 * `RangeError` for more than 255 parts or a part of 64 KiB or more.
 */
export function encodeCompound(messages: readonly Uint8Array[]): Uint8Array {
  if (messages.length > MAX_COMPOUND_PARTS) {
    throw new RangeError(
      `Cannot encode compound: at most ${MAX_COMPOUND_PARTS} parts: received ${messages.length}`,
    );
  }
  let total = 2 + 2 * messages.length;
  for (const m of messages) {
    if (m.length > MAX_COMPOUND_PART_LENGTH) {
      throw new RangeError(
        `Cannot encode compound: a part must be under 64 KiB: received ${m.length} bytes`,
      );
    }
    total += m.length;
  }
  const out = byteSlab.alloc(total);
  out[0] = MessageType.compound;
  out[1] = messages.length;
  let at = 2 + 2 * messages.length;
  messages.forEach((m, i) => {
    out[2 + 2 * i] = m.length >>> 8;
    out[3 + 2 * i] = m.length & 0xff;
    out.set(m, at);
    at += m.length;
  });
  return out;
}

/**
 * Splits `messages` into compounds of at most 255 parts each, as Go's `makeCompoundMessages`
 * does for gossip (one packet per compound).
 */
export function encodeCompoundMessages(messages: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < messages.length; i += MAX_COMPOUND_PARTS) {
    out.push(encodeCompound(messages.slice(i, i + MAX_COMPOUND_PARTS)));
  }
  return out;
}

/**
 * Decodes a compound message (`message[0]` must be 0x07). A missing count byte or a length table
 * cut short is an error; parts cut short are reported in `truncated`; bytes after the last part
 * are ignored.
 */
export function decodeCompound(message: Uint8Array): CompoundDecodeResult {
  if (message[0] !== MessageType.compound) {
    return { ok: false, error: new RangeError("Cannot decode compound: not a compound message") };
  }
  if (message.length < 2) {
    return { ok: false, error: new RangeError("Cannot decode compound: missing part count") };
  }
  const count = message[1];
  const tableEnd = 2 + 2 * count;
  if (message.length < tableEnd) {
    return {
      ok: false,
      error: new RangeError(
        `Cannot decode compound: length table truncated: ${count} parts need ${tableEnd} bytes: received ${message.length}`,
      ),
    };
  }
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const parts: Uint8Array[] = [];
  let at = tableEnd;
  for (let i = 0; i < count; i++) {
    const length = view.getUint16(2 + 2 * i);
    if (at + length > message.length) return { ok: true, parts, truncated: count - i };
    parts.push(message.subarray(at, at + length));
    at += length;
  }
  return { ok: true, parts, truncated: 0 };
}
