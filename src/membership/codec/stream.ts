/**
 * TCP stream framing (§5.1/§5.2). A stream carries an optional label header (written once by the
 * dialer), then one message: plain `[type][body]`, compressed `[0x09] msgpack(compress)`, or
 * encrypted `[0x0A][len u32][sealed]` around either. Plain msgpack has no length prefix, so
 * {@link StreamReader} decodes incrementally, reading only as many bytes as it needs, within a
 * byte cap and until an abort signal (the caller's deadline) fires.
 *
 * Messages: push/pull (header + N node records + raw user state), user message (header + raw
 * bytes), ping and ack (the TCP fallback probe), and errResp. Encryption is a hook: a
 * {@link DecryptHook} for reading and a {@link StreamSealer} for writing.
 *
 * @module
 */

import {
  type ByteSource,
  ConnSource,
  MemorySource,
  StreamError,
  type StreamSource,
} from "./_byte_source.ts";
import { checkInboundLabel } from "./label.ts";
import { lzwDecompress, LzwLimitError } from "./lzw.ts";
import {
  type AckRespMessage,
  ackRespSchema,
  CompressionAlgo,
  compressSchema,
  type ErrRespMessage,
  errRespSchema,
  MessageType,
  type PingMessage,
  pingSchema,
  type PushNodeState,
  pushNodeStateSchema,
  type PushPullHeader,
  pushPullHeaderSchema,
  userMsgHeaderSchema,
} from "./messages.ts";
import { MsgpackReader, NeedMoreData } from "./_msgpack_reader.ts";
import { decodeStruct, readStruct, type StructSchema } from "./msgpack.ts";
import type { DecryptHook } from "./packet.ts";

export { StreamError, type StreamErrorReason, type StreamSource } from "./_byte_source.ts";
export {
  encodePushPull,
  encodeStreamMessage,
  encodeUserMessageStream,
  type PushNodeSource,
  type PushRecordVisitor,
  type StreamEncodeOptions,
  type StreamSealer,
} from "./_stream_encode.ts";

/** memberlist's `maxPushStateBytes`: cap on user state, user messages and encrypted frames. */
export const MAX_PUSH_STATE_BYTES = 20 * 1024 * 1024;
/** memberlist's `maxPushPullNodes`: cap on node records in one push/pull. */
export const MAX_PUSH_PULL_NODES = 1_048_576;
/** Cap on decompressed stream payloads (2 × {@link MAX_PUSH_STATE_BYTES}). */
export const MAX_DECOMPRESSED_BYTES = 2 * MAX_PUSH_STATE_BYTES;

/** A whole push/pull message: header, node records and the delegate's raw state. */
export interface PushPullMessage {
  header: PushPullHeader;
  nodes: PushNodeState[];
  userState: Uint8Array;
}

/** A message read from a stream, discriminated by `type`. */
export type StreamMessage =
  | { type: typeof MessageType.ping; body: PingMessage }
  | { type: typeof MessageType.ackResp; body: AckRespMessage }
  | { type: typeof MessageType.pushPull; body: PushPullMessage }
  /** A reliable user message: the raw bytes after the header. */
  | { type: typeof MessageType.user; body: Uint8Array }
  | { type: typeof MessageType.errResp; body: ErrRespMessage };

/** Options of {@link StreamReader}. */
export interface StreamReaderOptions {
  /** Most bytes ever read from the connection; beyond it reads fail with `too-large`. */
  maxBytes: number;
  /** The deadline: once aborted, pending and later reads fail with `timeout`. */
  signal?: AbortSignal;
  /** Our label (checked against a header read by {@link StreamReader.readLabel}; AAD). @default "" */
  label?: string;
  /** Accept a stream without label header as ours; refuse one with a header. @default false */
  skipInboundLabelCheck?: boolean;
  /** Opens `[0x0A]` frames. Without it, an encrypted message fails with `decrypt`. */
  decrypt?: DecryptHook;
  /** Refuse messages that are not encrypted (GossipVerifyIncoming with a keyring). @default false */
  requireEncryption?: boolean;
  /** Cap on a decompressed payload. @default MAX_DECOMPRESSED_BYTES (40 MiB) */
  maxDecompressed?: number;
  /** Cap on push/pull node records. @default MAX_PUSH_PULL_NODES (1,048,576) */
  maxNodes?: number;
  /** Cap on user state, user message and encrypted frame sizes. @default MAX_PUSH_STATE_BYTES */
  maxPayloadBytes?: number;
}

const encoder = new TextEncoder();

/**
 * Reads memberlist messages from one connection, incrementally. Does not own the connection:
 * after a failure (a timeout in particular, which may leave a read pending) the caller closes it.
 */
export class StreamReader {
  #src: ConnSource;
  #options: StreamReaderOptions;
  #aadLabel: Uint8Array;

  /** Reads from `conn` with `options`' caps and deadline. */
  constructor(conn: StreamSource, options: StreamReaderOptions) {
    this.#src = new ConnSource(conn, options.maxBytes, options.signal);
    this.#options = options;
    this.#aadLabel = encoder.encode(options.label ?? "");
  }

  /**
   * Reads the label header a dialer may send first (responder side only) and applies the label
   * rule. Resolves to the label found ("" when none); rejects with a {@link StreamError}.
   */
  async readLabel(): Promise<string> {
    const src = this.#src;
    await src.ensure(1);
    let found = new Uint8Array(0);
    if (src.available()[0] === MessageType.hasLabel) {
      await src.ensure(2);
      const size = src.available()[1];
      if (size === 0) throw new StreamError("label", "Cannot read label: empty label header");
      await src.ensure(2 + size);
      found = src.available().slice(2, 2 + size);
      src.consume(2 + size);
    }
    const effective = checkInboundLabel(found, this.#options);
    if (effective instanceof RangeError) throw new StreamError("label", effective.message);
    this.#aadLabel = effective;
    return new TextDecoder().decode(found);
  }

  /** Reads one message. Rejects with a {@link StreamError} saying why it could not. */
  async readMessage(): Promise<StreamMessage> {
    let src: ByteSource = this.#src;
    await src.ensure(1);
    if (src.available()[0] === MessageType.encrypt) src = await this.#decrypt();
    else if (this.#options.requireEncryption) {
      throw new StreamError("decrypt", "Cannot read stream: message is not encrypted");
    }
    await src.ensure(1);
    if (src.available()[0] === MessageType.compress) src = await this.#decompress(src);
    await src.ensure(1);
    const type = src.available()[0];
    src.consume(1);
    switch (type) {
      case MessageType.ping:
        return { type, body: await readStructAsync(src, pingSchema) };
      case MessageType.ackResp:
        return { type, body: await readStructAsync(src, ackRespSchema) };
      case MessageType.errResp:
        return { type, body: await readStructAsync(src, errRespSchema) };
      case MessageType.user:
        return { type, body: await this.#readUser(src) };
      case MessageType.pushPull:
        return { type, body: await this.#readPushPull(src) };
      default:
        throw new StreamError(
          "unsupported-type",
          `Cannot read stream: unsupported message type: received ${type}`,
          { messageType: type },
        );
    }
  }

  async #decrypt(): Promise<ByteSource> {
    const src = this.#src;
    const decrypt = this.#options.decrypt;
    if (!decrypt) {
      throw new StreamError("decrypt", "Cannot read stream: encrypted but no decryption set up");
    }
    await src.ensure(5);
    const header = src.available().slice(0, 5);
    const length = new DataView(header.buffer).getUint32(1);
    const max = this.#options.maxPayloadBytes ?? MAX_PUSH_STATE_BYTES;
    if (length > max) {
      throw new StreamError("too-large", `Cannot read stream: encrypted frame over ${max} bytes`);
    }
    await src.ensure(5 + length);
    const sealed = src.available().slice(5, 5 + length);
    src.consume(5 + length);
    const aad = new Uint8Array(5 + this.#aadLabel.length);
    aad.set(header);
    aad.set(this.#aadLabel, 5);
    let plain: Uint8Array;
    try {
      plain = await decrypt(sealed, aad);
    } catch (e) {
      throw new StreamError("decrypt", `Cannot decrypt stream: ${(e as Error)?.message ?? e}`, {
        cause: e,
      });
    }
    if (plain.length === 0) throw new StreamError("malformed", "Cannot read stream: empty payload");
    return new MemorySource(plain);
  }

  async #decompress(src: ByteSource): Promise<ByteSource> {
    src.consume(1);
    const c = await readStructAsync(src, compressSchema);
    if (c.algo !== CompressionAlgo.lzw) {
      throw new StreamError(
        "malformed",
        `Cannot decompress: unknown algorithm: received ${c.algo}`,
      );
    }
    const maxOutput = this.#options.maxDecompressed ?? MAX_DECOMPRESSED_BYTES;
    let out: Uint8Array;
    try {
      out = lzwDecompress(c.buf ?? new Uint8Array(0), { maxOutput });
    } catch (e) {
      const reason = e instanceof LzwLimitError ? "too-large" : "malformed";
      throw new StreamError(reason, (e as Error).message, { cause: e });
    }
    if (out.length === 0) throw new StreamError("malformed", "Cannot decompress: empty payload");
    return new MemorySource(out);
  }

  async #readUser(src: ByteSource): Promise<Uint8Array> {
    const { userMsgLen } = await readStructAsync(src, userMsgHeaderSchema);
    this.#checkLength("UserMsgLen", userMsgLen, this.#options.maxPayloadBytes);
    return await readRaw(src, userMsgLen);
  }

  async #readPushPull(src: ByteSource): Promise<PushPullMessage> {
    const header = await readStructAsync(src, pushPullHeaderSchema);
    this.#checkLength("Nodes", header.nodes, this.#options.maxNodes ?? MAX_PUSH_PULL_NODES);
    this.#checkLength("UserStateLen", header.userStateLen, this.#options.maxPayloadBytes);
    const nodes: PushNodeState[] = [];
    // Records already buffered (all of them once decompressed) are decoded in one pass, without
    // a promise each; a record cut off by the end of the buffer waits for more bytes.
    while (nodes.length < header.nodes) {
      if (readBufferedStructs(src, pushNodeStateSchema, header.nodes - nodes.length, nodes) === 0) {
        nodes.push(await readStructAsync(src, pushNodeStateSchema));
      }
    }
    const userState = await readRaw(src, header.userStateLen);
    return { header, nodes, userState };
  }

  #checkLength(field: string, value: number, max = MAX_PUSH_STATE_BYTES): void {
    if (value < 0) {
      throw new StreamError(
        "malformed",
        `Cannot read stream: ${field} is negative: received ${value}`,
      );
    }
    if (value > max) {
      throw new StreamError(
        "too-large",
        `Cannot read stream: ${field} must be at most ${max}: received ${value}`,
      );
    }
  }
}

/**
 * Decodes up to `max` consecutive structs that the bytes already available hold whole, appending
 * them to `out`, with one reader over the buffer. Returns how many it decoded (0 when the next
 * one is incomplete); throws a `StreamError` on malformed input.
 */
function readBufferedStructs<T>(
  src: ByteSource,
  schema: StructSchema<T>,
  max: number,
  out: T[],
): number {
  const r = new MsgpackReader(src.available());
  let done = 0;
  let end = 0;
  try {
    while (done < max) {
      out.push(readStruct(r, schema));
      done++;
      end = r.pos;
    }
  } catch (e) {
    if (!(e instanceof NeedMoreData)) {
      src.consume(end);
      if (e instanceof RangeError || e instanceof TypeError) {
        throw new StreamError("malformed", e.message, { cause: e });
      }
      throw e;
    }
  }
  src.consume(end);
  return done;
}

/** Decodes one struct, waiting for more bytes while the input is incomplete. */
async function readStructAsync<T>(src: ByteSource, schema: StructSchema<T>): Promise<T> {
  for (;;) {
    const available = src.available();
    const r = decodeStruct(schema, available);
    if (r.status === "ok") {
      src.consume(r.bytesRead);
      return r.value;
    }
    if (r.status === "malformed") {
      throw new StreamError("malformed", r.error.message, { cause: r.error });
    }
    await src.ensure(Math.max(r.needed, available.length + 1));
  }
}

/** Reads exactly `n` raw bytes (a copy). */
async function readRaw(src: ByteSource, n: number): Promise<Uint8Array> {
  await src.ensure(n);
  const out = src.available().slice(0, n);
  src.consume(n);
  return out;
}
