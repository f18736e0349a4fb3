/**
 * The HashiCorp memberlist wire codec: byte-compatible with Go memberlist (go-msgpack v2 dialect,
 * Go `compress/lzw`, CRC-32/IEEE, label headers, compound messages, TCP stream framing).
 *
 * Layers, bottom up:
 * - {@link encodeStruct}/{@link decodeStruct}: schema-driven msgpack as Go writes and reads it;
 *   decoding reports bytes consumed and tells "incomplete" from "malformed".
 * - {@link encodeMessage}/{@link decodeMessage}: `[type][body]` for each message type, with
 *   camelCase interfaces ({@link PingMessage}, {@link AliveMessage}, ...) and their schemas.
 * - {@link lzwCompress}/{@link lzwDecompress}, {@link crc32}, {@link encodeCompound}/
 *   {@link decodeCompound}, {@link addLabelHeader}/{@link stripLabelHeader}.
 * - {@link encodePacket}/{@link decodePacket}: the whole UDP pipeline; decoding never throws and
 *   returns leaf messages or a {@link PacketError} with a `reason`.
 * - {@link StreamReader} and {@link encodeStreamMessage}, {@link encodePushPull},
 *   {@link encodeUserMessageStream}: TCP framing with caps and a deadline.
 *
 * Encryption (keyring, AES-GCM) plugs in through hooks: `encrypt`/`decrypt` functions for
 * packets, a {@link StreamSealer} and `decrypt` for streams.
 *
 * @example
 * ```ts
 * import { decodePacket, encodeMessage, encodePacket, MessageType } from "./mod.ts";
 *
 * const ping = encodeMessage(MessageType.ping, { seqNo: 7, node: "node-b" });
 * const datagram = await encodePacket([ping], { compress: true, crc: true });
 * const result = await decodePacket(datagram, { maxDecompressed: 1 << 20, maxParts: 4096 });
 * if (result.ok) console.log(result.messages[0]); // { type: 0, body: { seqNo: 7, node: "node-b" } }
 * ```
 *
 * @module
 */

export {
  type DecodeResult,
  decodeStruct,
  defineStruct,
  encodeStruct,
  type FieldKind,
  type FieldSchema,
  type StructSchema,
} from "./msgpack.ts";
export * from "./messages.ts";
export * from "./crc32.ts";
export * from "./lzw.ts";
export * from "./compound.ts";
export * from "./label.ts";
export * from "./packet.ts";
export * from "./stream.ts";
