/**
 * Sharing of the immutable parts of member records (names, address, metadata and version
 * bytes) between member tables. A table copies every byte array it keeps (decoder buffers are
 * reused), so N tables that all know the same N members would hold N² copies of each name and
 * address; a simulation of thousands of members in one process passes one
 * {@link SharedMemberInterner} to every table, so each distinct value is held once. A single
 * real node has one table and does not need one: without it the table copies each value once
 * and shares only equal version and metadata bytes (see `MemberTable`).
 *
 * @module
 */

/** Returns a kept (immutable by convention) copy of a member record's value. */
export interface MemberInterner {
  /** A string equal to `name`, shared where possible. */
  name(name: string): string;
  /**
   * A copy of `bytes` that the caller may keep: never `bytes` itself (it may be a reused
   * buffer) and never modified afterwards, so it may be shared with other holders.
   */
  bytes(bytes: Uint8Array): Uint8Array;
}

/**
 * A {@link MemberInterner} that keeps one instance of every distinct value it has seen, for
 * as long as it lives (meant for one simulation: memory grows with the number of distinct
 * names and addresses, never freed).
 *
 * @example
 * ```ts
 * const intern = new SharedMemberInterner();
 * const a = intern.bytes(Uint8Array.of(10, 0, 0, 1));
 * a === intern.bytes(Uint8Array.of(10, 0, 0, 1)); // true
 * ```
 */
export class SharedMemberInterner implements MemberInterner {
  readonly #names = new Map<string, string>();
  readonly #bytes = new Map<string, Uint8Array>();

  /** Number of distinct byte values held. */
  get size(): number {
    return this.#bytes.size;
  }

  /** The first string equal to `name` seen. */
  name(name: string): string {
    const kept = this.#names.get(name);
    if (kept !== undefined) return kept;
    this.#names.set(name, name);
    return name;
  }

  /** The first copy of bytes equal to `bytes` made. */
  bytes(bytes: Uint8Array): Uint8Array {
    const key = bytesKey(bytes);
    let kept = this.#bytes.get(key);
    if (kept === undefined) {
      kept = bytes.slice();
      this.#bytes.set(key, kept);
    }
    return kept;
  }
}

/** A string with one char code per byte (a map key equal exactly when the bytes are). */
function bytesKey(bytes: Uint8Array): string {
  let key = "";
  for (let i = 0; i < bytes.length; i++) key += String.fromCharCode(bytes[i]);
  return key;
}
