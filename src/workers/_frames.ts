/**
 * Frames between the node and a worker process (`WORKER_MODE=direct`) over the process's stdin
 * and stdout: each one a 4-byte big-endian length, then the message as MessagePack (the pinned
 * `@msgpack/msgpack` the replication codec uses; binary bodies stay binary, no base64). The same
 * messages as the thread workers' `postMessage` (`protocol.ts`), so the pool and the worker's
 * code do not know which carries them.
 *
 * @module
 */

import { Decoder, Encoder } from "npm:@msgpack/msgpack@3.1.3";

/** Largest frame accepted, bytes: past it the peer broke the protocol. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

// MessagePack has no ArrayBuffer (the thread protocol's bodies): as bytes, in place, through
// the nested arrays of a frame.
function binary(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (Array.isArray(value)) { for (let i = 0; i < value.length; i++) value[i] = binary(value[i]); }
  return value;
}

/** `message` as one length-prefixed frame (its nested arrays' ArrayBuffers become bytes). */
export function encodeFrame(message: unknown): Uint8Array {
  const body = encoder.encode(binary(message));
  const frame = new Uint8Array(4 + body.byteLength);
  new DataView(frame.buffer).setUint32(0, body.byteLength);
  frame.set(body, 4);
  return frame;
}

/** Splits a byte stream into the messages of its frames. */
export class FrameReader {
  #buffer = new Uint8Array(0);

  /** Adds `chunk`; returns the messages it completed. Throws on a frame over the limit. */
  push(chunk: Uint8Array): unknown[] {
    let data = chunk;
    if (this.#buffer.byteLength > 0) {
      data = new Uint8Array(this.#buffer.byteLength + chunk.byteLength);
      data.set(this.#buffer);
      data.set(chunk, this.#buffer.byteLength);
    }
    const out: unknown[] = [];
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let at = 0;
    while (data.byteLength - at >= 4) {
      const length = view.getUint32(at);
      if (length > MAX_FRAME_BYTES) throw new RangeError(`frame of ${length} bytes`);
      if (data.byteLength - at - 4 < length) break;
      out.push(decoder.decode(data.subarray(at + 4, at + 4 + length)));
      at += 4 + length;
    }
    this.#buffer = at === data.byteLength ? new Uint8Array(0) : data.slice(at);
    return out;
  }
}
