/**
 * Reading a whole body stream with a byte cap: the HTTP edge uses it for request bodies of
 * unknown length, replication for peers' answers (which `fetch` may have decompressed, so their
 * declared length says nothing about what arrives). Stops reading, and cancels the stream, as
 * soon as the cap is passed. Also the one byte-array concatenation both use.
 *
 * @module
 */

/**
 * Every byte of `stream` as one array, or `undefined` (the stream cancelled) once more than
 * `limit` bytes arrived. A `null` stream is empty.
 */
export async function readAllLimited(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array | undefined> {
  if (stream === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0] : concatBytes(...chunks);
}

/** `parts` joined into one new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
