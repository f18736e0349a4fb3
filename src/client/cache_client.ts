/**
 * `CacheClient`: a program's handle on a running cachenode cluster over its HTTP API, with
 * nothing but `fetch` (Deno, Node 20+, browsers, Workers-style runtimes). It learns the members
 * and every bucket's owners from `GET /cluster/topology`, sends each key's request straight to a
 * node that holds the key, fails over to the next node when one dies and retries what can be
 * retried (`transport.ts` says which and how).
 *
 * ```ts
 * import { CacheClient } from "./client.ts";
 * const cache = new CacheClient({ nodes: ["http://127.0.0.1:8000"] });
 * await cache.set("greeting", "hello", { ttlMs: 60_000 });
 * await cache.get("greeting"); // "hello"
 * await cache.close();
 * ```
 *
 * @module
 */

import { failure } from "./errors.ts";
import { type CallSpec, ClusterTransport } from "./transport.ts";
import type {
  BatchOp,
  BatchResult,
  CacheClientOptions,
  CacheValue,
  CallOptions,
  ClientStats,
  DeleteOptions,
  EntryMetadata,
  EntryWithMeta,
  IncrOptions,
  ListedKey,
  ListOptions,
  MemberInfo,
  SetOptions,
} from "./types.ts";
import type { Topology } from "./topology.ts";
import { watchCluster, type WatchEvent } from "./watch.ts";
import { decodeBase64, encodeBase64 } from "../util/base64.ts";

/** A client of a cachenode cluster; see the module doc. */
export class CacheClient implements AsyncDisposable {
  readonly #transport: ClusterTransport;
  readonly #fetch: typeof fetch;
  readonly #random: () => number;

  /** A client of the cluster `options.nodes` belong to (nothing is sent until the first call). */
  constructor(options: CacheClientOptions) {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const retries = options.retries ?? 4;
    if (!(timeoutMs > 0)) {
      throw new RangeError(
        `Cannot create CacheClient: timeoutMs must be > 0: received ${timeoutMs}`,
      );
    }
    if (!Number.isInteger(retries) || retries < 0) {
      throw new RangeError(
        `Cannot create CacheClient: retries must be an integer >= 0: received ${retries}`,
      );
    }
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#random = options.random ?? Math.random;
    this.#transport = new ClusterTransport({
      nodes: options.nodes,
      token: options.token,
      timeoutMs,
      retries,
      routing: options.routing ?? "owners",
      refreshMs: options.refreshMs ?? 5_000,
      fetch: this.#fetch,
      onRetry: options.onRetry,
      random: this.#random,
    });
  }

  /** The value of `key`, or `undefined` on a miss. */
  async get(key: string, options: CallOptions = {}): Promise<CacheValue | undefined> {
    const res = await this.#call("get", key, "owner", "idempotent", "GET", options);
    if (res.status === 404) return void await res.body?.cancel();
    if (res.status !== 200) throw await failure("get", key, res);
    return await valueOf(res);
  }

  /** The value of `key` with its ETag, remaining TTL, metadata and tags; `undefined` on a miss. */
  async getWithMeta(key: string, options: CallOptions = {}): Promise<EntryWithMeta | undefined> {
    const res = await this.#call("getWithMeta", key, "owner", "idempotent", "GET", options, {
      headers: { "x-cache-meta": "true" },
    });
    if (res.status === 404) return void await res.body?.cancel();
    if (res.status !== 200) throw await failure("getWithMeta", key, res);
    const h = res.headers;
    const out: EntryWithMeta = { value: await valueOf(res), etag: h.get("etag") ?? "" };
    const ttl = h.get("x-ttl-ms");
    if (ttl !== null) out.ttlMs = Number(ttl);
    const metadata = h.get("x-cache-metadata");
    if (metadata !== null) out.metadata = JSON.parse(metadata);
    const tags = h.get("cache-tag");
    if (tags !== null) out.tags = tags.split(",").map((t) => t.trim()).filter((t) => t !== "");
    return out;
  }

  /**
   * Stores `value` under `key`. Conditional (`ifMatch`, `ifNoneMatch`) writes are decided on the
   * key's primary owner, are retried like reads and reject with `PreconditionFailedError` when
   * the condition does not hold; plain writes are retried only when no node received them.
   */
  async set(key: string, value: CacheValue, options: SetOptions = {}): Promise<void> {
    const conditional = options.ifMatch !== undefined || options.ifNoneMatch !== undefined;
    const headers: Record<string, string> = writeHeaders(options);
    if (options.ifNoneMatch !== undefined) headers["if-none-match"] = options.ifNoneMatch;
    let body: BodyInit;
    let query = "";
    if (options.metadata !== undefined || options.tags !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify({
        ...jsonValue(value),
        ...(options.ttlMs !== undefined ? { ttl: options.ttlMs / 1000 } : {}),
        ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
        ...(options.tags !== undefined ? { tags: options.tags } : {}),
      });
    } else {
      headers["content-type"] = typeof value === "string"
        ? "text/plain; charset=utf-8"
        : "application/octet-stream";
      body = value as BodyInit;
      if (options.ttlMs !== undefined) query = `?ttl=${options.ttlMs / 1000}`;
    }
    const res = await this.#call(
      "set",
      key,
      conditional ? "primary" : "owner",
      conditional ? "idempotent" : "unreached",
      "PUT",
      options,
      { headers, body, query },
    );
    await ok("set", key, res);
  }

  /** Deletes `key` (resolves whether or not it existed, unless `ifMatch` does not hold). */
  async delete(key: string, options: DeleteOptions = {}): Promise<void> {
    const conditional = options.ifMatch !== undefined;
    const res = await this.#call(
      "delete",
      key,
      conditional ? "primary" : "owner",
      "idempotent",
      "DELETE",
      options,
      { headers: writeHeaders(options) },
    );
    await ok("delete", key, res);
  }

  /**
   * Adds `by` (default 1) to the integer at `key` (a missing key counts as 0) on its primary
   * owner and resolves with the new value; `NotACounterError` when the value is not an integer.
   * Retried only when no node received it (a lost answer could otherwise count twice).
   */
  async incr(key: string, options: IncrOptions = {}): Promise<number> {
    const doc = {
      ...(options.by !== undefined ? { by: options.by } : {}),
      ...(options.ttlMs !== undefined ? { ttl: options.ttlMs / 1000 } : {}),
    };
    const res = await this.#call("incr", key, "primary", "unreached", "POST", options, {
      suffix: "/incr",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(doc),
    });
    if (res.status !== 200) throw await failure("incr", key, res);
    return (await res.json()).value;
  }

  /**
   * Runs up to 1,000 operations in one request, in order, each with the status its own request
   * would get. A batch of gets and deletes only is retried like a read; one with puts only when
   * no node received it.
   */
  async batch(ops: BatchOp[], options: CallOptions = {}): Promise<BatchResult[]> {
    const idempotent = ops.every((o) => o.op !== "put");
    const body = JSON.stringify({
      ops: ops.map((o) => {
        if (o.op !== "put") return { op: o.op, key: o.key };
        return {
          op: "put",
          key: o.key,
          ...jsonValue(o.value),
          ...(o.ttlMs !== undefined ? { ttl: o.ttlMs / 1000 } : {}),
          ...(o.metadata !== undefined ? { metadata: o.metadata } : {}),
          ...(o.tags !== undefined ? { tags: o.tags } : {}),
        };
      }),
    });
    const res = await this.#transport.call({
      op: "batch",
      target: "any",
      retry: idempotent ? "idempotent" : "unreached",
      method: "POST",
      path: "/batch",
      headers: { "content-type": "application/json" },
      body,
      ...callOptions(options),
    });
    if (res.status !== 200) throw await failure("batch", undefined, res);
    const { results } = await res.json() as {
      results: { status: number; value?: string; encoding?: string; error?: string }[];
    };
    return results.map((r) => {
      const out: BatchResult = { status: r.status };
      if (r.value !== undefined) {
        out.value = r.encoding === "base64" ? decodeBase64(r.value) : r.value;
      }
      if (r.error !== undefined) out.error = r.error;
      return out;
    });
  }

  /**
   * The cluster's keys in key order, page after page (`for await (const page of
   * client.list({ prefix: "user:" }))`), each page with the cursor to resume after it.
   */
  async *list(options: ListOptions = {}): AsyncGenerator<{ keys: ListedKey[]; cursor?: string }> {
    let cursor = options.cursor;
    while (true) {
      const q = new URLSearchParams();
      if (options.prefix !== undefined) q.set("prefix", options.prefix);
      if (options.limit !== undefined) q.set("limit", String(options.limit));
      if (cursor !== undefined) q.set("cursor", cursor);
      const text = q.toString();
      const query = text ? `?${text}` : "";
      const res = await this.#transport.call({
        op: "list",
        target: "any",
        retry: "idempotent",
        method: "GET",
        path: `/cache${query}`,
        ...callOptions(options),
      });
      if (res.status !== 200) throw await failure("list", undefined, res);
      const page = await res.json() as {
        keys: { name: string; expiration_ms?: number; metadata?: EntryMetadata }[];
        list_complete: boolean;
        cursor?: string;
      };
      const keys = page.keys.map((k) => {
        const out: ListedKey = { name: k.name };
        if (k.expiration_ms !== undefined) out.expiresAt = k.expiration_ms;
        if (k.metadata !== undefined) out.metadata = k.metadata;
        return out;
      });
      yield page.list_complete ? { keys } : { keys, cursor: page.cursor };
      if (page.list_complete || page.cursor === undefined) return;
      cursor = page.cursor;
    }
  }

  /** Deletes the entries with any of `tags` or named in `keys`, on every node; resolves with how many were live. */
  async purge(
    request: { tags?: string[]; keys?: string[] },
    options: CallOptions = {},
  ): Promise<number> {
    const res = await this.#transport.call({
      op: "purge",
      target: "any",
      retry: "idempotent",
      method: "POST",
      path: "/purge",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
      ...callOptions(options),
    });
    if (res.status !== 200) throw await failure("purge", undefined, res);
    return (await res.json()).purged;
  }

  /**
   * Changes of keys starting with `prefix` as they happen, until `signal` aborts or the loop
   * ends; streams that break are opened again (see `watch.ts`).
   */
  watch(options: { prefix?: string; signal?: AbortSignal } = {}): AsyncGenerator<WatchEvent> {
    return watchCluster(
      this.#transport,
      options.prefix ?? "",
      this.#fetch,
      this.#random,
      options.signal,
    );
  }

  /** Every member a node knows, with its state (`/cluster/members`). */
  async members(options: CallOptions = {}): Promise<MemberInfo[]> {
    const res = await this.#transport.call({
      op: "members",
      target: "any",
      retry: "idempotent",
      method: "GET",
      path: "/cluster/members",
      ...callOptions(options),
    });
    if (res.status !== 200) throw await failure("members", undefined, res);
    return await res.json();
  }

  /** Counters: calls, retries, failures, view refreshes, and the calls that were retried. */
  stats(): ClientStats {
    return this.#transport.stats();
  }

  /** The cluster view the client routes by, once fetched (none with `routing: "fixed"`). */
  get topology(): Topology | undefined {
    return this.#transport.topology;
  }

  /** Fetches the cluster view now (calls do it on their own; useful to fail early). */
  refresh(): Promise<void> {
    return this.#transport.refresh();
  }

  /** Stops the client: later calls reject. */
  close(): Promise<void> {
    return this.#transport.close();
  }

  /** {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #call(
    op: string,
    key: string,
    target: CallSpec["target"],
    retry: CallSpec["retry"],
    method: string,
    options: CallOptions,
    more: { headers?: Record<string, string>; body?: BodyInit; query?: string; suffix?: string } =
      {},
  ): Promise<Response> {
    if (typeof key !== "string" || key === "") {
      throw new TypeError(`Cannot ${op}: key must be a non-empty string: received ${String(key)}`);
    }
    if (key === "members" && method === "GET") {
      // The compat member list shadows this key for GET (README, "HTTP API").
      throw new RangeError(`Cannot ${op} "members": GET /cache/members is the member list`);
    }
    return this.#transport.call({
      op,
      key,
      target,
      retry,
      method,
      path: `/cache/${encodeURIComponent(key)}${more.suffix ?? ""}${more.query ?? ""}`,
      headers: more.headers,
      body: more.body,
      ...callOptions(options),
    });
  }
}

function callOptions(options: CallOptions): { signal?: AbortSignal; timeoutMs?: number } {
  return {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  };
}

function writeHeaders(options: { ifMatch?: string; acks?: number | "all" }) {
  const headers: Record<string, string> = {};
  if (options.ifMatch !== undefined) headers["if-match"] = options.ifMatch;
  if (options.acks !== undefined) headers["x-write-acks"] = String(options.acks);
  return headers;
}

function jsonValue(value: CacheValue): { value: string; encoding?: "base64" } {
  return typeof value === "string" ? { value } : { value: encodeBase64(value), encoding: "base64" };
}

async function valueOf(res: Response): Promise<CacheValue> {
  const type = res.headers.get("content-type") ?? "";
  return type.startsWith("application/octet-stream")
    ? new Uint8Array(await res.arrayBuffer())
    : await res.text();
}

async function ok(op: string, key: string, res: Response): Promise<void> {
  if (res.status !== 200) throw await failure(op, key, res);
  await res.body?.cancel();
}
