/**
 * What few entries carry beyond key and value: metadata and tags, kept by slot in a map so that
 * the many entries without them cost nothing (the slot table's columns stay as they are), plus
 * the index from tag to keys that a purge by tag reads.
 *
 * @module
 */

/** The extras of one entry. */
export interface Extras {
  /** JSON metadata. */
  metadata?: Record<string, unknown>;
  /** Tags. */
  tags?: readonly string[];
}

/** Metadata and tags by slot, and keys by tag. */
export class EntryExtras {
  readonly #bySlot = new Map<number, Extras>();
  readonly #byTag = new Map<string, Set<string>>();

  /** The extras of slot `s`, if any. */
  get(s: number): Extras | undefined {
    return this.#bySlot.get(s);
  }

  /** Sets (or, with `undefined`, clears) the extras of slot `s` holding `key`. */
  set(s: number, key: string, extras: Extras | undefined): void {
    this.clear(s, key);
    if (extras === undefined) return;
    this.#bySlot.set(s, extras);
    for (const tag of extras.tags ?? []) {
      let keys = this.#byTag.get(tag);
      if (!keys) this.#byTag.set(tag, keys = new Set());
      keys.add(key);
    }
  }

  /** Clears the extras of slot `s` holding `key`. */
  clear(s: number, key: string): void {
    const old = this.#bySlot.get(s);
    if (old === undefined) return;
    this.#bySlot.delete(s);
    for (const tag of old.tags ?? []) {
      const keys = this.#byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.#byTag.delete(tag);
    }
  }

  /** Keys carrying any of `tags` (each once). */
  keysWithTags(tags: Iterable<string>): string[] {
    const out = new Set<string>();
    for (const tag of tags) for (const key of this.#byTag.get(tag) ?? []) out.add(key);
    return [...out];
  }

  /** Forgets everything. */
  reset(): void {
    this.#bySlot.clear();
    this.#byTag.clear();
  }
}

/** Extra bytes the budget counts for `extras` (their JSON and tag text). */
export function extrasSize(extras: Extras | undefined): number {
  if (extras === undefined) return 0;
  let size = extras.metadata === undefined ? 0 : JSON.stringify(extras.metadata).length;
  for (const tag of extras.tags ?? []) size += tag.length + 16;
  return size;
}

/** The extras of a record, or `undefined` when it has none. */
export function extrasOf(
  record: { metadata?: Record<string, unknown>; tags?: readonly string[] },
): Extras | undefined {
  const { metadata, tags } = record;
  if (metadata === undefined && (tags === undefined || tags.length === 0)) return undefined;
  const extras: Extras = {};
  if (metadata !== undefined) extras.metadata = metadata;
  if (tags !== undefined && tags.length > 0) extras.tags = tags;
  return extras;
}
