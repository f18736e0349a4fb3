/**
 * memberlist's message type bytes, the bodies of its messages as TypeScript interfaces, their
 * msgpack schemas (camelCase property ↔ Go field name), and encoding/decoding of a single
 * message: `[type byte][msgpack body]`, or `[0x08][raw bytes]` for a user message on UDP.
 *
 * @module
 */

import { byteSlab } from "../../util/byte_slab.ts";
import { ByteWriter } from "./_byte_writer.ts";
import { defineStruct, type FieldSchema, readStruct, writeStruct } from "./msgpack.ts";
import type { StructSchema } from "./msgpack.ts";
import { MsgpackReader, NeedMoreData } from "./_msgpack_reader.ts";

/** The first byte of every memberlist message (§1). Append-only; 244 marks a label header. */
export const MessageType = {
  ping: 0,
  indirectPing: 1,
  ackResp: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nackResp: 11,
  hasCrc: 12,
  errResp: 13,
  hasLabel: 244,
} as const;
/** One of the {@link MessageType} values. */
export type MessageType = typeof MessageType[keyof typeof MessageType];

/** Node states carried in {@link PushNodeState.state}. */
export const NodeStateType = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;
/** One of the {@link NodeStateType} values. */
export type NodeStateType = typeof NodeStateType[keyof typeof NodeStateType];

/** Compression algorithm ids for {@link CompressMessage.algo}; LZW is the only one defined. */
export const CompressionAlgo = { lzw: 0 } as const;

/** ping (0): a probe; `node` is the intended target's name. Source fields are omitempty. */
export interface PingMessage {
  seqNo: number;
  node: string;
  sourceAddr?: Uint8Array;
  sourcePort?: number;
  sourceNode?: string;
}

/** indirectPingReq (1): asks an intermediary to probe `target:port` (named `node`). */
export interface IndirectPingMessage {
  seqNo: number;
  target: Uint8Array | null;
  port: number;
  node: string;
  /** The requester wants a nack if no ack arrives. */
  nack: boolean;
  sourceAddr?: Uint8Array;
  sourcePort?: number;
  sourceNode?: string;
}

/** ackResp (2): answers a ping; `payload` is the ping delegate's ack payload or null. */
export interface AckRespMessage {
  seqNo: number;
  payload: Uint8Array | null;
}

/** nackResp (11): an intermediary's "no ack from the target within the probe timeout". */
export interface NackRespMessage {
  seqNo: number;
}

/** errResp (13): a stream responder failed to read the initiator's message. */
export interface ErrRespMessage {
  error: string;
}

/** suspect (3): `from` suspects `node` at `incarnation`. */
export interface SuspectMessage {
  incarnation: number;
  node: string;
  from: string;
}

/** alive (4): `node` is alive at `incarnation`, with its address, meta and Vsn (6 bytes). */
export interface AliveMessage {
  incarnation: number;
  node: string;
  /** IP as 4 or 16 bytes; kept exactly as received. */
  addr: Uint8Array | null;
  port: number;
  meta: Uint8Array | null;
  /** `[pMin, pMax, pCur, dMin, dMax, dCur]`. */
  vsn: Uint8Array | null;
}

/** dead (5): `from` declares `node` dead; `from === node` means a graceful leave. */
export interface DeadMessage {
  incarnation: number;
  node: string;
  from: string;
}

/** pushPullHeader: the first object of a push/pull (6) message. */
export interface PushPullHeader {
  /** Number of {@link PushNodeState} records that follow. */
  nodes: number;
  /** Raw user-state bytes after the records. */
  userStateLen: number;
  join: boolean;
}

/** pushNodeState: one node record of a push/pull message. */
export interface PushNodeState {
  name: string;
  addr: Uint8Array | null;
  port: number;
  meta: Uint8Array | null;
  incarnation: number;
  /** A {@link NodeStateType}; Go int, so other values decode too (the engine must check). */
  state: number;
  vsn: Uint8Array | null;
}

/** userMsgHeader: precedes the raw bytes of a user message (8) on a stream. */
export interface UserMsgHeader {
  userMsgLen: number;
}

/** compress (9): `buf` is the LZW-compressed inner message. */
export interface CompressMessage {
  algo: number;
  buf: Uint8Array | null;
}

type Fields<T> = readonly FieldSchema<T>[];
const sourceFields = [
  { prop: "sourceAddr", goName: "SourceAddr", kind: "bytes", omitEmpty: true },
  { prop: "sourcePort", goName: "SourcePort", kind: "u16", omitEmpty: true },
  { prop: "sourceNode", goName: "SourceNode", kind: "string", omitEmpty: true },
] as const;

/** Schema of {@link PingMessage}. */
export const pingSchema: StructSchema<PingMessage> = defineStruct(
  "ping",
  [
    { prop: "seqNo", goName: "SeqNo", kind: "u32" },
    { prop: "node", goName: "Node", kind: "string" },
    ...sourceFields,
  ] satisfies Fields<PingMessage>,
);

/** Schema of {@link IndirectPingMessage}. */
export const indirectPingSchema: StructSchema<IndirectPingMessage> = defineStruct(
  "indirectPingReq",
  [
    { prop: "seqNo", goName: "SeqNo", kind: "u32" },
    { prop: "target", goName: "Target", kind: "bytes" },
    { prop: "port", goName: "Port", kind: "u16" },
    { prop: "node", goName: "Node", kind: "string" },
    { prop: "nack", goName: "Nack", kind: "bool" },
    ...sourceFields,
  ] satisfies Fields<IndirectPingMessage>,
);

/** Schema of {@link AckRespMessage}. */
export const ackRespSchema: StructSchema<AckRespMessage> = defineStruct("ackResp", [
  { prop: "seqNo", goName: "SeqNo", kind: "u32" },
  { prop: "payload", goName: "Payload", kind: "bytes" },
]);

/** Schema of {@link NackRespMessage}. */
export const nackRespSchema: StructSchema<NackRespMessage> = defineStruct("nackResp", [
  { prop: "seqNo", goName: "SeqNo", kind: "u32" },
]);

/** Schema of {@link ErrRespMessage}. */
export const errRespSchema: StructSchema<ErrRespMessage> = defineStruct("errResp", [
  { prop: "error", goName: "Error", kind: "string" },
]);

const accusation = [
  { prop: "incarnation", goName: "Incarnation", kind: "u32" },
  { prop: "node", goName: "Node", kind: "string" },
  { prop: "from", goName: "From", kind: "string" },
] as const;

/** Schema of {@link SuspectMessage}. */
export const suspectSchema: StructSchema<SuspectMessage> = defineStruct("suspect", accusation);

/** Schema of {@link DeadMessage}. */
export const deadSchema: StructSchema<DeadMessage> = defineStruct("dead", accusation);

/** Schema of {@link AliveMessage}. */
export const aliveSchema: StructSchema<AliveMessage> = defineStruct("alive", [
  { prop: "incarnation", goName: "Incarnation", kind: "u32" },
  { prop: "node", goName: "Node", kind: "string" },
  { prop: "addr", goName: "Addr", kind: "bytes" },
  { prop: "port", goName: "Port", kind: "u16" },
  { prop: "meta", goName: "Meta", kind: "bytes" },
  { prop: "vsn", goName: "Vsn", kind: "bytes" },
]);

/** Schema of {@link PushPullHeader}. */
export const pushPullHeaderSchema: StructSchema<PushPullHeader> = defineStruct("pushPullHeader", [
  { prop: "nodes", goName: "Nodes", kind: "int" },
  { prop: "userStateLen", goName: "UserStateLen", kind: "int" },
  { prop: "join", goName: "Join", kind: "bool" },
]);

/** Schema of {@link PushNodeState}. */
export const pushNodeStateSchema: StructSchema<PushNodeState> = defineStruct("pushNodeState", [
  { prop: "name", goName: "Name", kind: "string" },
  { prop: "addr", goName: "Addr", kind: "bytes" },
  { prop: "port", goName: "Port", kind: "u16" },
  { prop: "meta", goName: "Meta", kind: "bytes" },
  { prop: "incarnation", goName: "Incarnation", kind: "u32" },
  { prop: "state", goName: "State", kind: "int" },
  { prop: "vsn", goName: "Vsn", kind: "bytes" },
]);

/** Schema of {@link UserMsgHeader}. */
export const userMsgHeaderSchema: StructSchema<UserMsgHeader> = defineStruct("userMsgHeader", [
  { prop: "userMsgLen", goName: "UserMsgLen", kind: "int" },
]);

/** Schema of {@link CompressMessage}. */
export const compressSchema: StructSchema<CompressMessage> = defineStruct("compress", [
  { prop: "algo", goName: "Algo", kind: "u8" },
  { prop: "buf", goName: "Buf", kind: "bytes" },
]);

/** Body type of each self-contained message type (user = the raw bytes after the type byte). */
export interface MessageBodies {
  [MessageType.ping]: PingMessage;
  [MessageType.indirectPing]: IndirectPingMessage;
  [MessageType.ackResp]: AckRespMessage;
  [MessageType.suspect]: SuspectMessage;
  [MessageType.alive]: AliveMessage;
  [MessageType.dead]: DeadMessage;
  [MessageType.user]: Uint8Array;
  [MessageType.compress]: CompressMessage;
  [MessageType.nackResp]: NackRespMessage;
  [MessageType.errResp]: ErrRespMessage;
}

/** Types {@link encodeMessage}/{@link decodeMessage} handle (not compound, pushPull, ...). */
export type SingleMessageType = keyof MessageBodies;

/** A decoded single message, discriminated by `type`. */
export type DecodedMessage = {
  [K in SingleMessageType]: { type: K; body: MessageBodies[K] };
}[SingleMessageType];

/** Single message types whose body is a msgpack struct (all but user). */
export type StructMessageType = Exclude<SingleMessageType, typeof MessageType.user>;

/** Schema of the body of each msgpack-bodied single message type. */
export const messageSchemas: { readonly [K in StructMessageType]: StructSchema<MessageBodies[K]> } =
  {
    [MessageType.ping]: pingSchema,
    [MessageType.indirectPing]: indirectPingSchema,
    [MessageType.ackResp]: ackRespSchema,
    [MessageType.suspect]: suspectSchema,
    [MessageType.alive]: aliveSchema,
    [MessageType.dead]: deadSchema,
    [MessageType.compress]: compressSchema,
    [MessageType.nackResp]: nackRespSchema,
    [MessageType.errResp]: errRespSchema,
  };

/** True when `type` is one {@link decodeMessage} understands. */
export function isSingleMessageType(type: number): type is SingleMessageType {
  return type === MessageType.user || Object.hasOwn(messageSchemas, type);
}

/**
 * Encodes `[type][body]`. Throws a `TypeError`/`RangeError` naming the field when the body does
 * not fit (e.g. a port above 65535).
 */
export function encodeMessage<K extends SingleMessageType>(
  type: K,
  body: MessageBodies[K],
): Uint8Array {
  const w = ByteWriter.pooled(64);
  try {
    w.u8(type);
    if (type === MessageType.user) w.bytes(body as Uint8Array);
    else writeStruct(w, messageSchemas[type as StructMessageType] as StructSchema<unknown>, body);
    return w.toBytes();
  } finally {
    w.release();
  }
}

/**
 * Decodes one single message. Bytes after the msgpack body are ignored, as Go does. Throws a
 * `RangeError` (unknown type, truncated body, value out of range) or `TypeError` (wrong kind).
 */
export function decodeMessage(bytes: Uint8Array): DecodedMessage {
  if (bytes.length === 0) throw new RangeError("Cannot decode message: empty input");
  const type = bytes[0];
  if (!isSingleMessageType(type)) {
    throw new RangeError(`Cannot decode message: not a single message type: received ${type}`);
  }
  if (type === MessageType.user) return { type, body: byteSlab.copy(bytes, 1) };
  const schema = messageSchemas[type] as StructSchema<unknown>;
  try {
    const body = readStruct(new MsgpackReader(bytes, 1), schema);
    return { type, body } as DecodedMessage;
  } catch (e) {
    if (e instanceof NeedMoreData) {
      throw new RangeError(
        `Cannot decode ${schema.name}: truncated body: received ${bytes.length} bytes`,
      );
    }
    throw e;
  }
}
