/**
 * Encoders for stream messages (§5.1/§5.2): build `[type][body]`, compress it (always, when
 * compression is on), seal it into a `[0x0A][len u32][sealed]` frame when a sealer is given, and
 * prefix the label header when this side is the dialer.
 *
 * @module
 */

import { ByteWriter } from "./_byte_writer.ts";
import { encodeLabelHeader } from "./label.ts";
import { lzwCompress } from "./lzw.ts";
import {
  CompressionAlgo,
  encodeMessage,
  MessageType,
  type PushNodeState,
  pushNodeStateSchema,
  pushPullHeaderSchema,
  userMsgHeaderSchema,
} from "./messages.ts";
import {
  isAscii,
  utf8Encoder,
  writeInt,
  writeRawHeader,
  writeStruct,
  writeUint,
} from "./msgpack.ts";

/**
 * Push/pull records read straight from where they are kept (the member table), so encoding a
 * table of N members builds no N record objects first.
 */
export interface PushNodeSource {
  /** Number of records {@link PushNodeSource.forEachRecord} visits. */
  readonly size: number;
  /** Visits every record in order. */
  forEachRecord(visit: PushRecordVisitor): void;
}

/** Receives one push/pull record's fields (in pushNodeState's order). */
export type PushRecordVisitor = (
  name: string,
  addr: Uint8Array,
  port: number,
  meta: Uint8Array,
  incarnation: number,
  state: number,
  vsn: Uint8Array,
) => void;

/**
 * Seals stream payloads. The frame header (and so the AAD) carries the sealed length, which must
 * be known before sealing: hence `sealedLength` beside `seal`.
 */
export interface StreamSealer {
  /** Bytes `seal` will return for a plaintext of `plainLength` bytes (vsn + nonce + ct + tag). */
  sealedLength(plainLength: number): number;
  /** Seals `plain` with associated data `aad` = `[0x0A][len u32]` followed by the label. */
  seal(plain: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
}

/** Options of the stream encoders. */
export interface StreamEncodeOptions {
  /** Compress with LZW (on streams Go always does when compression is enabled). */
  compress: boolean;
  /** The connection's label: header prefix (dialer) and encryption AAD. @default "" */
  label?: string;
  /** Prefix the label header: true for the dialer's first write, false for replies. @default true */
  writeLabelHeader?: boolean;
  /** Seals the message into an encrypted frame. @default undefined (plaintext) */
  encrypt?: StreamSealer;
}

const encoder = new TextEncoder();

/**
 * Frames one complete message `[type][body]` for a stream. Rejects with a `RangeError` if the
 * sealer returns a length other than it announced, or with whatever the sealer rejects with.
 */
export async function encodeStreamMessage(
  message: Uint8Array,
  options: StreamEncodeOptions,
): Promise<Uint8Array> {
  let msg = message;
  if (options.compress) {
    msg = encodeMessage(MessageType.compress, { algo: CompressionAlgo.lzw, buf: lzwCompress(msg) });
  }
  const label = options.label ?? "";
  if (options.encrypt) {
    const length = options.encrypt.sealedLength(msg.length);
    const labelBytes = encoder.encode(label);
    const aad = new Uint8Array(5 + labelBytes.length);
    aad[0] = MessageType.encrypt;
    new DataView(aad.buffer).setUint32(1, length);
    aad.set(labelBytes, 5);
    const sealed = await options.encrypt.seal(msg, aad);
    if (sealed.length !== length) {
      throw new RangeError(
        `Cannot encrypt stream message: sealer announced ${length} bytes: received ${sealed.length}`,
      );
    }
    msg = new Uint8Array(5 + length);
    msg.set(aad.subarray(0, 5));
    msg.set(sealed, 5);
  }
  if (!(options.writeLabelHeader ?? true) || label === "") return msg;
  const header = encodeLabelHeader(label);
  const out = new Uint8Array(header.length + msg.length);
  out.set(header);
  out.set(msg, header.length);
  return out;
}

/**
 * Encodes a push/pull message: header, every node record, then the raw user state. `header.nodes`
 * and `header.userStateLen` may be left out; if given they must match (else it rejects with a
 * `RangeError`, as it does for a field that does not fit its kind).
 */
export async function encodePushPull(
  header: { join: boolean; nodes?: number; userStateLen?: number },
  nodes: readonly PushNodeState[] | PushNodeSource,
  userState: Uint8Array,
  options: StreamEncodeOptions,
): Promise<Uint8Array> {
  const count = "forEachRecord" in nodes ? nodes.size : nodes.length;
  if (header.nodes !== undefined && header.nodes !== count) {
    throw new RangeError(
      `Cannot encode pushPull: header.nodes must equal nodes.length ${count}: received ${header.nodes}`,
    );
  }
  if (header.userStateLen !== undefined && header.userStateLen !== userState.length) {
    throw new RangeError(
      `Cannot encode pushPull: header.userStateLen must equal ${userState.length}: received ${header.userStateLen}`,
    );
  }
  const w = new ByteWriter(64 + 96 * count + userState.length);
  w.u8(MessageType.pushPull);
  writeStruct(w, pushPullHeaderSchema, {
    nodes: count,
    userStateLen: userState.length,
    join: header.join,
  });
  if ("forEachRecord" in nodes) {
    let written = 0;
    nodes.forEachRecord((name, addr, port, meta, incarnation, state, vsn) => {
      writePushNodeState(w, name, addr, port, meta, incarnation, state, vsn);
      written++;
    });
    if (written !== count) {
      throw new RangeError(
        `Cannot encode pushPull: the source announced ${count} records: visited ${written}`,
      );
    }
  } else {
    for (const node of nodes) writeStruct(w, pushNodeStateSchema, node);
  }
  w.bytes(userState);
  return await encodeStreamMessage(w.toView(), options);
}

// pushNodeState has no omitempty field, so every record is a map of all its fields, written in
// Go's key order by the function below (checked here, once).
const PUSH_NODE_ORDER = ["addr", "incarnation", "meta", "name", "port", "state", "vsn"];
if (
  pushNodeStateSchema.encodeOrder.some((f, i) => f.omitEmpty || f.prop !== PUSH_NODE_ORDER[i]) ||
  pushNodeStateSchema.encodeOrder.length !== PUSH_NODE_ORDER.length
) {
  throw new Error("writePushNodeState does not match pushNodeStateSchema");
}
const [ADDR_KEY, INCARNATION_KEY, META_KEY, NAME_KEY, PORT_KEY, STATE_KEY, VSN_KEY] =
  pushNodeStateSchema.encodedKeys;

/**
 * Appends one record exactly as `writeStruct(w, pushNodeStateSchema, record)` would, for values
 * that already fit their fields (the member table's: u16 port, u32 incarnation, state 0..3).
 * Plain parameters rather than `...Parameters<PushRecordVisitor>`: this runs once per record of
 * every push/pull, and a rest array per call would be garbage.
 */
function writePushNodeState(
  w: ByteWriter,
  name: string,
  addr: Uint8Array,
  port: number,
  meta: Uint8Array,
  incarnation: number,
  state: number,
  vsn: Uint8Array,
): void {
  w.u8(0x80 | PUSH_NODE_ORDER.length);
  w.bytes(ADDR_KEY);
  writeRawHeader(w, addr.length);
  w.bytes(addr);
  w.bytes(INCARNATION_KEY);
  writeUint(w, incarnation);
  w.bytes(META_KEY);
  writeRawHeader(w, meta.length);
  w.bytes(meta);
  w.bytes(NAME_KEY);
  if (isAscii(name)) {
    writeRawHeader(w, name.length);
    w.ascii(name);
  } else {
    const bytes = utf8Encoder.encode(name);
    writeRawHeader(w, bytes.length);
    w.bytes(bytes);
  }
  w.bytes(PORT_KEY);
  writeUint(w, port);
  w.bytes(STATE_KEY);
  writeInt(w, state);
  w.bytes(VSN_KEY);
  writeRawHeader(w, vsn.length);
  w.bytes(vsn);
}

/** Encodes a reliable user message: `[0x08] msgpack(userMsgHeader)` then the raw bytes. */
export async function encodeUserMessageStream(
  payload: Uint8Array,
  options: StreamEncodeOptions,
): Promise<Uint8Array> {
  const w = new ByteWriter(16 + payload.length);
  w.u8(MessageType.user);
  writeStruct(w, userMsgHeaderSchema, { userMsgLen: payload.length });
  w.bytes(payload);
  return await encodeStreamMessage(w.toView(), options);
}
