/**
 * Test support of the API edge's KV tests: an in-memory {@link CacheService} with the contract's
 * semantics (versions, conditional writes, counters, listing, tags, flush, watch), on a manual
 * clock, for routes whose node side is not what these tests are about. Private to `http/`.
 *
 * @module
 */

import {
  type CacheEntryView,
  type CacheService,
  type ChangeEvent,
  type IncrOptions,
  type ListOptions,
  type ListPage,
  type MemberView,
  NotACounterError,
  NotEnoughReplicasError,
  PreconditionFailedError,
  type PurgeRequest,
  type SetOptions,
  type WriteOptions,
} from "../service/mod.ts";

/** See the module doc; `writes` counts every applied write. */
export class FakeKv implements CacheService {
  readonly limits = { maxKeyBytes: 64, maxValueBytes: 1024 };
  readonly entries = new Map<string, CacheEntryView>();
  readonly watchers = new Set<{ prefix: string; listener: (e: ChangeEvent) => void }>();
  /** Live members the fake claims (for `X-Write-Acks` beyond them). */
  liveMembers = 1;
  clock = 1_000_000;
  writes = 0;
  #hlc = 0;

  now(): number {
    return this.clock;
  }

  get(key: string): CacheEntryView | undefined {
    const e = this.entries.get(key);
    if (e && e.expiresAt > 0 && e.expiresAt <= this.clock) return undefined;
    return e;
  }

  #check(key: string, options: WriteOptions = {}): void {
    const acks = options.acks;
    if (typeof acks === "number" && acks > this.liveMembers) {
      throw new NotEnoughReplicasError(acks, this.liveMembers);
    }
    const current = this.get(key);
    if (options.ifAbsent && current) throw new PreconditionFailedError("key exists");
    const want = options.ifMatch;
    if (
      want && (!current || current.version.hlc !== want.hlc || current.version.node !== want.node)
    ) {
      throw new PreconditionFailedError("version differs");
    }
  }

  #emit(kind: ChangeEvent["kind"], key: string, version: CacheEntryView["version"]): void {
    for (const w of this.watchers) if (key.startsWith(w.prefix)) w.listener({ kind, key, version });
  }

  set(key: string, value: string | Uint8Array, options: SetOptions = {}): Promise<void> {
    try {
      this.#check(key, options);
    } catch (err) {
      return Promise.reject(err);
    }
    const version = { hlc: ++this.#hlc, node: "fake" };
    const ttl = options.ttlMs ?? 0;
    const entry: CacheEntryView = { value, expiresAt: ttl > 0 ? this.clock + ttl : 0, version };
    if (options.metadata) entry.metadata = options.metadata;
    if (options.tags) entry.tags = options.tags;
    this.entries.set(key, entry);
    this.writes++;
    this.#emit("put", key, version);
    return Promise.resolve();
  }

  delete(key: string, options: WriteOptions = {}): Promise<void> {
    try {
      this.#check(key, options);
    } catch (err) {
      return Promise.reject(err);
    }
    this.entries.delete(key);
    this.writes++;
    this.#emit("delete", key, { hlc: ++this.#hlc, node: "fake" });
    return Promise.resolve();
  }

  async incr(key: string, options: IncrOptions = {}): Promise<number> {
    const current = this.get(key);
    const text = current === undefined ? "0" : current.value;
    if (typeof text !== "string" || !/^-?[0-9]+$/.test(text)) {
      throw new NotACounterError(`${key} is not a counter`);
    }
    const value = Number(text) + (options.by ?? 1);
    const ttlMs = current ? Math.max(0, current.expiresAt - this.clock) : options.ttlMs;
    await this.set(key, String(value), { ttlMs, acks: options.acks });
    return value;
  }

  list(options: ListOptions = {}): Promise<ListPage> {
    const prefix = options.prefix ?? "";
    const limit = options.limit ?? 100;
    const names = [...this.entries.keys()].filter((k) =>
      k.startsWith(prefix) && (options.cursor === undefined || k > options.cursor) &&
      this.get(k) !== undefined
    ).sort();
    const page = names.slice(0, limit);
    const keys = page.map((name) => {
      const e = this.get(name)!;
      return {
        name,
        ...(e.expiresAt > 0 ? { expiresAt: e.expiresAt } : {}),
        ...(e.metadata ? { metadata: e.metadata } : {}),
      };
    });
    const complete = names.length <= limit;
    return Promise.resolve(complete ? { keys, complete } : { keys, complete, cursor: page.at(-1) });
  }

  purge(request: PurgeRequest): Promise<number> {
    let n = 0;
    for (const [key, e] of [...this.entries]) {
      if (request.keys?.includes(key) || e.tags?.some((t) => request.tags?.includes(t))) {
        this.entries.delete(key);
        n++;
      }
    }
    return Promise.resolve(n);
  }

  flush(): Promise<number> {
    const n = this.entries.size;
    this.entries.clear();
    return Promise.resolve(n);
  }

  watch(prefix: string, listener: (event: ChangeEvent) => void): () => void {
    const w = { prefix, listener };
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  members(): MemberView[] {
    return [];
  }

  stats(): Record<string, unknown> {
    return { entries: this.entries.size, writes: this.writes };
  }

  readiness(): { ready: boolean } {
    return { ready: true };
  }
}
