/**
 * `watchCluster`: the client's `watch`, an async iterator over the changes of keys under a
 * prefix, that reconnects. A node's `/watch` streams the changes applied on that node: in full
 * replication one node sees every change, so one stream (on the client's current node, moving to
 * another when it fails) is enough; in partitioned mode each node sees only the keys it holds, so
 * the client opens a stream on every live member and drops the copies (each change arrives from
 * each of the key's owners). A stream that breaks is opened again with jittered backoff and the
 * iterator yields `{kind: "reconnect"}`: changes made meanwhile were not seen (re-read what you
 * cache), as after the node's own `overflow`.
 *
 * @module
 */

import type { ClusterTransport } from "./transport.ts";
import { sleep } from "./transport.ts";

/** One event of {@link watchCluster}. */
export interface WatchEvent {
  /**
   * `put`, `delete`, `expire`: a change of `key` (to `version`); `overflow` (the node cut a slow
   * reader off) and `reconnect` (a stream broke and was opened again): changes may have been
   * missed.
   */
  kind: "put" | "delete" | "expire" | "overflow" | "reconnect";
  /** The key changed (change events only). */
  key?: string;
  /** The change's version, as the entry's ETag (change events only). */
  version?: string;
  /** The node whose stream brought the event (its URL). */
  node: string;
}

const SEEN_KEPT = 10_000;
const RECONNECT_CAP_MS = 2_000;
const MEMBER_CHECK_MS = 1_000;

/** Server-Sent Events of `body`: each `{event, data}` dispatched by a blank line. */
export async function* parseSse(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ event: string; data: string }> {
  let event = "message";
  let data: string[] = [];
  let partial = "";
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    const lines = (partial + chunk).split(/\r\n|\r|\n/);
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") {
        if (data.length > 0) yield { event, data: data.join("\n") };
        event = "message";
        data = [];
      } else if (line.startsWith(":")) {
        continue;
      } else {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
    }
  }
}

/** A queue one or more producers push to and one consumer drains. */
class EventQueue {
  readonly #items: WatchEvent[] = [];
  readonly #signal: AbortSignal;
  #wake: (() => void) | undefined;

  /** A queue that stops waiting when `signal` aborts. */
  constructor(signal: AbortSignal) {
    this.#signal = signal;
    signal.addEventListener("abort", () => this.#wake?.(), { once: true });
  }

  push(event: WatchEvent): void {
    this.#items.push(event);
    this.#wake?.();
  }

  /** The next event, or `undefined` once the signal aborted. */
  async next(): Promise<WatchEvent | undefined> {
    while (this.#items.length === 0) {
      if (this.#signal.aborted) return undefined;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
    return this.#items.shift();
  }
}

/**
 * Changes of keys starting with `prefix`, from the nodes of `transport`'s cluster, until
 * `signal` aborts or the consumer stops iterating; see the module doc.
 */
export async function* watchCluster(
  transport: ClusterTransport,
  prefix: string,
  fetchFn: typeof fetch,
  random: () => number,
  signal?: AbortSignal,
): AsyncGenerator<WatchEvent> {
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const queue = new EventQueue(stop.signal);
  const pumps = new Map<string, Promise<void>>();
  const seen = new Map<string, true>();
  const path = `/watch?prefix=${encodeURIComponent(prefix)}`;

  // One stream, reopened on `pick()`'s node after each break, until stopped or `keep` says no.
  const pump = async (pick: () => string | undefined, keep: () => boolean) => {
    let failures = 0;
    let opened = false;
    while (!stop.signal.aborted && keep()) {
      const node = pick();
      if (node === undefined) return;
      try {
        const res = await fetchFn(node + path, {
          headers: { ...transport.baseHeaders(), accept: "text/event-stream" },
          signal: stop.signal,
        });
        if (!res.ok || !res.body) {
          await res.body?.cancel();
          throw new Error(`watch on ${node}: ${res.status}`);
        }
        if (opened) queue.push({ kind: "reconnect", node });
        opened = true;
        failures = 0;
        for await (const { event, data } of parseSse(res.body)) {
          if (event === "overflow") {
            queue.push({ kind: "overflow", node });
            continue;
          }
          if (event !== "put" && event !== "delete" && event !== "expire") continue;
          const doc = JSON.parse(data) as { key: string; version: string };
          const id = `${event}\n${doc.version}\n${doc.key}`;
          if (seen.has(id)) continue;
          seen.set(id, true);
          if (seen.size > SEEN_KEPT) seen.delete(seen.keys().next().value!);
          queue.push({ kind: event, key: doc.key, version: doc.version, node });
        }
      } catch {
        if (stop.signal.aborted) return;
        transport.nodeFailed(node);
      }
      failures++;
      const cap = Math.min(RECONNECT_CAP_MS, 50 * 2 ** failures);
      await sleep(Math.floor(random() * cap), stop.signal).catch(() => {});
    }
  };

  // Partitioned mode: a stream per live member, started as members appear.
  const watchMembers = async () => {
    while (!stop.signal.aborted) {
      for (const m of transport.topology?.members ?? []) {
        if (pumps.has(m.url)) continue;
        const url = m.url;
        const p = pump(
          () => url,
          () => transport.topology?.members.some((x) => x.url === url) ?? false,
        ).finally(() => pumps.delete(url));
        pumps.set(url, p);
      }
      await sleep(MEMBER_CHECK_MS, stop.signal).catch(() => {});
      transport.touch();
    }
  };

  await transport.refresh();
  const runner = transport.topology?.partitioned
    ? watchMembers()
    : pump(() => transport.candidates(undefined, "any")[0], () => true);
  try {
    while (true) {
      const event = await queue.next();
      if (event === undefined) break;
      yield event;
    }
    signal?.throwIfAborted();
  } finally {
    stop.abort();
    signal?.removeEventListener("abort", onAbort);
    await runner;
    await Promise.all(pumps.values());
  }
}
