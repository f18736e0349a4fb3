/**
 * The UDP packet pipeline both ways (§4.1). Sending: messages → compound (if several) → LZW
 * compress (kept only if shorter) → CRC layer → encryption hook → label header. Receiving: the
 * reverse, then recursion through compound and compress layers down to leaf messages, with caps
 * on depth, part count and decompressed bytes. Decoding never throws: a hostile or broken datagram
 * yields a {@link PacketError} saying why it (or part of it) was dropped.
 *
 * Encryption is a hook (async functions passed in) so the keyring and AES-GCM (§4.5) plug in
 * without reshaping the pipeline.
 *
 * @module
 */

import { decodeCompound, encodeCompound } from "./compound.ts";
import { crc32 } from "./crc32.ts";
import { addLabelHeader, checkInboundLabel, stripLabelHeader } from "./label.ts";
import { lzwCompressScratch, lzwDecompress, LzwLimitError } from "./lzw.ts";
import { byteSlab } from "../../util/byte_slab.ts";
import {
  CompressionAlgo,
  type DecodedMessage,
  decodeMessage,
  encodeMessage,
  MessageType,
} from "./messages.ts";

/** Bytes the CRC layer adds (`[0x0C][crc32 u32]`); not counted in Go's packet budget. */
export const CRC_OVERHEAD = 5;

/** Seals a plaintext with associated data (the label bytes for packets). */
export type EncryptHook = (plain: Uint8Array, aad: Uint8Array) => Promise<Uint8Array>;
/** Opens a sealed payload; rejects (or throws) when no key authenticates it. */
export type DecryptHook = (sealed: Uint8Array, aad: Uint8Array) => Promise<Uint8Array>;

/**
 * A leaf message that may arrive in a UDP packet: ping, indirectPing, ackResp, suspect, alive,
 * dead, user (raw bytes) or nackResp.
 */
export type PacketMessage = Extract<
  DecodedMessage,
  { type: 0 | 1 | 2 | 3 | 4 | 5 | 8 | 11 }
>;

/** Why a packet, or a part of it, was dropped. */
export type PacketErrorReason =
  /** No bytes (or nothing after the label). */
  | "empty"
  /** Malformed label header, or a label that is not ours. */
  | "label"
  /** The decrypt hook refused the payload (with verifyIncoming). */
  | "decrypt"
  /** CRC layer present and wrong. */
  | "crc"
  /** A message body, compound table or LZW stream that does not decode. */
  | "malformed"
  /** A type byte not valid in a packet (e.g. pushPull, errResp, nested CRC), or unknown algo. */
  | "unsupported-type"
  /** Compound parts cut off by the end of their compound (earlier parts were kept). */
  | "truncated"
  /** More nested compound/compress layers than `maxDepth`. */
  | "too-deep"
  /** More messages than `maxParts`. */
  | "too-many-parts"
  /** Decompressed bytes over `maxDecompressed`. */
  | "decompressed-too-large";

/** A reason a packet or part was dropped, as an `Error` with a machine-readable `reason`. */
export class PacketError extends Error {
  /** Machine-readable cause. */
  readonly reason: PacketErrorReason;
  /** @param reason the cause @param message a human-readable explanation */
  constructor(reason: PacketErrorReason, message: string) {
    super(message);
    this.name = "PacketError";
    this.reason = reason;
  }
}

/** Options of {@link encodePacket}. */
export interface PacketEncodeOptions {
  /** Try LZW; the compressed form is kept only when strictly shorter. */
  compress: boolean;
  /** Add the CRC layer (only for peers whose PMax ≥ 5). */
  crc: boolean;
  /** Our label; prefixed as a header and used as encryption AAD. @default "" */
  label?: string;
  /** Encrypts the packet (AAD = label bytes). @default undefined (no encryption) */
  encrypt?: EncryptHook;
}

/** Options of {@link decodePacket}. */
export interface PacketDecodeOptions {
  /** Our label. @default "" */
  label?: string;
  /** Accept unlabelled packets as ours and refuse labelled ones. @default false */
  skipInboundLabelCheck?: boolean;
  /** Decrypts the packet (AAD = label bytes). @default undefined (encryption off) */
  decrypt?: DecryptHook;
  /** With `decrypt`: drop packets that fail to decrypt, else read them as plaintext. @default true */
  verifyIncoming?: boolean;
  /** Total decompressed bytes allowed for the whole packet. */
  maxDecompressed: number;
  /** Most messages (leaves and containers) one packet may carry. */
  maxParts: number;
  /** Most nested compound/compress layers. @default 8 */
  maxDepth?: number;
}

/** Result of {@link decodePacket}: leaves, plus non-fatal problems; or why it was dropped. */
export type PacketDecodeResult =
  | { ok: true; messages: PacketMessage[]; problems: PacketError[] }
  | { ok: false; error: PacketError };

const encoder = new TextEncoder();
const LEAF_TYPES: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 8, 11]);

/**
 * Builds one datagram from `messages` (each `[type][body]`). Several messages go into one
 * compound, so at most 255 fit (use `encodeCompoundMessages` to split gossip); rejects with a
 * `RangeError` for none, too many, or a part of 64 KiB or more, and as the encrypt hook does.
 */
export async function encodePacket(
  messages: readonly Uint8Array[],
  options: PacketEncodeOptions,
): Promise<Uint8Array> {
  if (messages.length === 0) throw new RangeError("Cannot encode packet: no messages");
  let msg = messages.length === 1 ? messages[0] : encodeCompound(messages);
  if (options.compress) {
    const compressed = encodeMessage(MessageType.compress, {
      algo: CompressionAlgo.lzw,
      buf: lzwCompressScratch(msg),
    });
    if (compressed.length < msg.length) msg = compressed;
  }
  if (options.crc) {
    const withCrc = byteSlab.alloc(5 + msg.length);
    withCrc[0] = MessageType.hasCrc;
    const crc = crc32(msg);
    withCrc[1] = crc >>> 24;
    withCrc[2] = crc >>> 16;
    withCrc[3] = crc >>> 8;
    withCrc[4] = crc;
    withCrc.set(msg, 5);
    msg = withCrc;
  }
  const label = options.label ?? "";
  if (options.encrypt) msg = await options.encrypt(msg, encoder.encode(label));
  return addLabelHeader(label, msg);
}

interface Walk {
  messages: PacketMessage[];
  problems: PacketError[];
  budget: number;
  parts: number;
  readonly maxParts: number;
  readonly maxDepth: number;
  stopped: boolean;
}

/**
 * Decodes one datagram into its leaf messages, in wire order. Never throws or rejects: a packet
 * that yields no message because of a problem is `{ok: false}`; otherwise problems with parts
 * (truncation, a malformed part, ...) are listed beside the messages that did decode.
 */
export async function decodePacket(
  datagram: Uint8Array,
  options: PacketDecodeOptions,
): Promise<PacketDecodeResult> {
  try {
    const outer = await unwrap(datagram, options);
    if (outer instanceof PacketError) return { ok: false, error: outer };
    const walk: Walk = {
      messages: [],
      problems: [],
      budget: options.maxDecompressed,
      parts: 0,
      maxParts: options.maxParts,
      maxDepth: options.maxDepth ?? 8,
      stopped: false,
    };
    visit(outer, 0, walk);
    if (walk.messages.length === 0 && walk.problems.length > 0) {
      return { ok: false, error: walk.problems[0] };
    }
    return { ok: true, messages: walk.messages, problems: walk.problems };
  } catch (e) {
    // Unreachable by design; kept so that a bug can never crash a receive loop.
    return { ok: false, error: new PacketError("malformed", `Cannot decode packet: ${e}`) };
  }
}

/** Removes label, encryption and CRC layers; returns the top-level message. */
async function unwrap(
  datagram: Uint8Array,
  options: PacketDecodeOptions,
): Promise<Uint8Array | PacketError> {
  if (datagram.length === 0) return new PacketError("empty", "Cannot decode packet: empty");
  const stripped = stripLabelHeader(datagram);
  if (stripped.status !== "ok") {
    const why = stripped.status === "malformed" ? stripped.error.message : "truncated header";
    return new PacketError("label", `Cannot decode packet: ${why}`);
  }
  const aad = checkInboundLabel(stripped.label, options);
  if (aad instanceof RangeError) return new PacketError("label", aad.message);
  let buf = datagram.subarray(stripped.bytesRead);
  if (options.decrypt) {
    try {
      buf = await options.decrypt(buf, aad);
    } catch (e) {
      if (options.verifyIncoming ?? true) {
        return new PacketError("decrypt", `Cannot decrypt packet: ${(e as Error)?.message ?? e}`);
      }
    }
  }
  if (buf.length >= 5 && buf[0] === MessageType.hasCrc) {
    const expected = new DataView(buf.buffer, buf.byteOffset, 5).getUint32(1);
    buf = buf.subarray(5);
    const actual = crc32(buf);
    if (actual !== expected) {
      return new PacketError(
        "crc",
        `Cannot decode packet: CRC mismatch: expected ${expected}: received ${actual}`,
      );
    }
  }
  return buf;
}

function visit(msg: Uint8Array, depth: number, walk: Walk): void {
  if (walk.stopped) return;
  const fail = (reason: PacketErrorReason, message: string) =>
    walk.problems.push(new PacketError(reason, message));
  if (++walk.parts > walk.maxParts) {
    walk.stopped = true;
    return void fail("too-many-parts", `Cannot decode packet: more than ${walk.maxParts} parts`);
  }
  if (msg.length === 0) return void fail("empty", "Cannot decode packet: empty message");
  const type = msg[0];
  if (type === MessageType.compound || type === MessageType.compress) {
    if (depth >= walk.maxDepth) {
      walk.stopped = true;
      return void fail("too-deep", `Cannot decode packet: nested deeper than ${walk.maxDepth}`);
    }
    if (type === MessageType.compound) visitCompound(msg, depth, walk);
    else visitCompress(msg, depth, walk);
    return;
  }
  if (!LEAF_TYPES.has(type)) {
    return void fail(
      "unsupported-type",
      `Cannot decode packet: unsupported type: received ${type}`,
    );
  }
  try {
    walk.messages.push(decodeMessage(msg) as PacketMessage);
  } catch (e) {
    fail("malformed", (e as Error).message);
  }
}

function visitCompound(msg: Uint8Array, depth: number, walk: Walk): void {
  const result = decodeCompound(msg);
  if (!result.ok) {
    walk.problems.push(new PacketError("malformed", result.error.message));
    return;
  }
  for (const part of result.parts) visit(part, depth + 1, walk);
  if (result.truncated > 0) {
    walk.problems.push(
      new PacketError("truncated", `Cannot decode compound: ${result.truncated} parts truncated`),
    );
  }
}

function visitCompress(msg: Uint8Array, depth: number, walk: Walk): void {
  let inner: Uint8Array;
  try {
    const decoded = decodeMessage(msg);
    if (decoded.type !== MessageType.compress) throw new RangeError("not a compress message");
    if (decoded.body.algo !== CompressionAlgo.lzw) {
      walk.problems.push(
        new PacketError(
          "unsupported-type",
          `Cannot decompress: unsupported algorithm: received ${decoded.body.algo}`,
        ),
      );
      return;
    }
    inner = lzwDecompress(decoded.body.buf ?? new Uint8Array(0), { maxOutput: walk.budget });
  } catch (e) {
    const tooLarge = e instanceof LzwLimitError;
    const message = (e as Error).message;
    walk.problems.push(new PacketError(tooLarge ? "decompressed-too-large" : "malformed", message));
    if (tooLarge) walk.stopped = true;
    return;
  }
  walk.budget -= inner.length;
  visit(inner, depth + 1, walk);
}
