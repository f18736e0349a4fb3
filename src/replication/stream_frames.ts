/**
 * Frames of the replication stream (one WebSocket per peer on `GET /internal/stream`): a batch
 * travels as `[u32 seq][batch]`, its answer as `[u32 seq][u8 status][payload]`, so several
 * batches can be in flight on one connection and each answer finds its request. Status 0 is an
 * answer (the payload is what `POST /internal/replicate` would return), 1 a refused batch (the
 * payload is the UTF-8 reason, as a 400 would carry).
 *
 * @module
 */

/** Answer status: applied. */
export const FRAME_OK = 0;
/** Answer status: refused as malformed (not retried). */
export const FRAME_REFUSED = 1;
/**
 * Set in the sequence number of a frame that carries a read request (`remote_read.ts`) instead
 * of a batch; its answer echoes it. Sequence numbers themselves stay below it.
 */
export const READ_FRAME_FLAG = 0x80000000;

/** A batch frame: sequence number, then the batch. */
export function encodeBatchFrame(seq: number, batch: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + batch.byteLength);
  new DataView(out.buffer).setUint32(0, seq);
  out.set(batch, 4);
  return out;
}

/** Splits a batch frame; throws a `TypeError` when it is too short. */
export function decodeBatchFrame(frame: Uint8Array): { seq: number; batch: Uint8Array } {
  if (frame.byteLength < 5) {
    throw new TypeError(
      `Cannot decode stream frame: at least 5 bytes: received ${frame.byteLength}`,
    );
  }
  const seq = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0);
  return { seq, batch: frame.subarray(4) };
}

/** An answer frame. */
export function encodeAnswerFrame(seq: number, status: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, seq);
  view.setUint8(4, status);
  out.set(payload, 5);
  return out;
}

/** Splits an answer frame; throws a `TypeError` when it is too short. */
export function decodeAnswerFrame(
  frame: Uint8Array,
): { seq: number; status: number; payload: Uint8Array } {
  if (frame.byteLength < 5) {
    throw new TypeError(
      `Cannot decode answer frame: at least 5 bytes: received ${frame.byteLength}`,
    );
  }
  const view = new DataView(frame.buffer, frame.byteOffset, 5);
  return { seq: view.getUint32(0), status: view.getUint8(4), payload: frame.subarray(5) };
}
