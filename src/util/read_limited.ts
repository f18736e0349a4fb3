/**
 * Reading a whole body stream with a byte cap: the HTTP edge uses it for request bodies of
 * unknown length, replication for peers' answers (which `fetch` may have decompressed, so their
 * declared length says nothing about what arrives). Stops reading, and cancels the stream, as
 * soon as the cap is passed.
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
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return body;
}
