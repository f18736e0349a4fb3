/**
 * The label header (§4.6): `[0xF4][L][L bytes]`, 1 ≤ L ≤ 255. It prefixes every UDP packet and
 * the start of a TCP stream (written once by the dialer) so that clusters sharing a network
 * ignore each other's traffic. It is never encrypted; its bytes are the encryption AAD.
 *
 * @module
 */

import { MessageType } from "./messages.ts";

const encoder = new TextEncoder();

/** Longest label in bytes (its length travels in one byte). */
export const MAX_LABEL_LENGTH = 255;

/** Result of {@link stripLabelHeader}. */
export type LabelStripResult =
  | {
    status: "ok";
    /** The label's bytes; empty when there was no header. */
    label: Uint8Array;
    /** Header length in bytes (0 when absent); the message starts there. */
    bytesRead: number;
  }
  | { status: "incomplete"; needed: number }
  | { status: "malformed"; error: RangeError };

// Returned for every packet without a label (never modified: it has no bytes).
const NO_LABEL = new Uint8Array(0);

/** Returns `[0xF4][L][label]`, or an empty array for `""`. Throws a `RangeError` above 255 bytes. */
export function encodeLabelHeader(label: string): Uint8Array {
  if (label === "") return new Uint8Array(0);
  const bytes = encoder.encode(label);
  if (bytes.length > MAX_LABEL_LENGTH) {
    throw new RangeError(
      `Cannot encode label: must be at most ${MAX_LABEL_LENGTH} bytes: received ${bytes.length}`,
    );
  }
  const out = new Uint8Array(2 + bytes.length);
  out[0] = MessageType.hasLabel;
  out[1] = bytes.length;
  out.set(bytes, 2);
  return out;
}

/** Prefixes `data` with the label header; returns `data` itself when `label` is empty. */
export function addLabelHeader(label: string, data: Uint8Array): Uint8Array {
  if (label === "") return data;
  const header = encodeLabelHeader(label);
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

/**
 * Reads the label header at the start of `data`, if any. Data that does not start with 0xF4 has
 * no label. An empty label (L = 0) is malformed; a header cut short is incomplete.
 */
export function stripLabelHeader(data: Uint8Array): LabelStripResult {
  if (data.length === 0 || data[0] !== MessageType.hasLabel) {
    return { status: "ok", label: NO_LABEL, bytesRead: 0 };
  }
  if (data.length < 2) return { status: "incomplete", needed: 2 };
  const size = data[1];
  if (size === 0) {
    return {
      status: "malformed",
      error: new RangeError("Cannot decode label: header present with an empty label"),
    };
  }
  if (data.length < 2 + size) return { status: "incomplete", needed: 2 + size };
  return { status: "ok", label: data.slice(2, 2 + size), bytesRead: 2 + size };
}

/** Options of {@link checkInboundLabel}. */
export interface InboundLabelOptions {
  /** Our own label. @default "" */
  label?: string;
  /**
   * Accept unlabelled traffic as if it carried our label (for rolling a label out); labelled
   * traffic is then refused. @default false
   */
  skipInboundLabelCheck?: boolean;
}

/**
 * Applies memberlist's inbound label rule to the label found on a packet or stream. Returns the
 * effective label bytes (used as encryption AAD), or a `RangeError` saying why it is refused.
 */
export function checkInboundLabel(
  found: Uint8Array,
  options: InboundLabelOptions,
): Uint8Array | RangeError {
  const own = encoder.encode(options.label ?? "");
  if (options.skipInboundLabelCheck) {
    if (found.length > 0) return new RangeError("Cannot accept label: unexpected label header");
    return own;
  }
  if (!sameBytes(found, own)) {
    return new RangeError(
      `Cannot accept label: expected ${JSON.stringify(options.label ?? "")}: received ${
        JSON.stringify(new TextDecoder().decode(found))
      }`,
    );
  }
  return own;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
