/**
 * CRC-32/IEEE (reflected polynomial 0xEDB88320, as zlib and Go's `crc32.ChecksumIEEE`), used by
 * memberlist's CRC layer (type 12) to guard UDP packets.
 *
 * @module
 */

// Computed once at load and never written afterwards.
const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * Returns the CRC-32/IEEE of `data` as an unsigned 32-bit number. Pass a previous result as
 * `crc` to continue a checksum over several chunks.
 *
 * @example
 * ```ts
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
