/**
 * The in-memory twin of a TCP connection: two ends, each with an inbox (read side) and an
 * outbound pipe that delivers chunks to the peer after the link's latency, in order, on the
 * network's clock. A chunk that falls due while the path is cut waits and retries (TCP
 * retransmits); while the receiving node is paused it waits for resume. Internal.
 *
 * @module
 */

import type { MemoryNode } from "./_memory_node.ts";
import type { Address, StreamConn } from "./transport.ts";

/** What a stream needs from the network to carry its bytes. */
export interface StreamRoute {
  /** Current network time, ms. */
  now(): number;
  /** One-way delay for the next chunk from `from` to `to`, ms. */
  delay(from: MemoryNode, to: MemoryNode): number;
  /** Whether the path from `from` to `to` is cut now (partition, isolation, 100% loss). */
  cut(from: MemoryNode, to: MemoryNode): boolean;
  /** Runs `fn` after `ms` on the network's clock. */
  schedule(fn: () => void, ms: number): void;
  /** How long a chunk stalled by a cut path waits before trying again, ms. */
  readonly retryMs: number;
}

interface Chunk {
  data: Uint8Array | null; // null is the FIN
  at: number;
}

interface PendingRead {
  buf: Uint8Array;
  resolve: (n: number | null) => void;
}

/** One end of an in-memory stream. */
export class MemoryStreamConn implements StreamConn {
  /** The peer's address. */
  readonly remote: Address;
  #node: MemoryNode;
  #route: StreamRoute;
  #peer: MemoryStreamConn | undefined;
  #closed = false;
  #eof = false;
  #inbox: Uint8Array[] = [];
  #inboxHead = 0;
  #readers: PendingRead[] = [];
  #outbox: (Chunk | undefined)[] = [];
  #outboxHead = 0;
  #lastAt = 0;
  #stalled = false;

  private constructor(node: MemoryNode, remote: Address, route: StreamRoute) {
    this.#node = node;
    this.remote = remote;
    this.#route = route;
  }

  /** Creates a connected pair: the first end belongs to `dialer`, the second to `listener`. */
  static pair(
    route: StreamRoute,
    dialer: MemoryNode,
    listener: MemoryNode,
  ): [MemoryStreamConn, MemoryStreamConn] {
    const client = new MemoryStreamConn(dialer, listener.address, route);
    const server = new MemoryStreamConn(listener, dialer.address, route);
    client.#peer = server;
    server.#peer = client;
    dialer.conns.add(client);
    listener.conns.add(server);
    return [client, server];
  }

  /** Whether this end was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Reads into `buf`; resolves to the count read, or `null` at end of stream or once closed. */
  read(buf: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.resolve(null);
    if (buf.length === 0) return Promise.resolve(0);
    if (this.#readers.length === 0 && this.#inbox.length > 0) {
      return Promise.resolve(this.#take(buf));
    }
    if (this.#eof) return Promise.resolve(null);
    return new Promise((resolve) => this.#readers.push({ buf, resolve }));
  }

  /**
   * Queues all of `data` for the peer and resolves at once (no back-pressure). Rejects with
   * `Deno.errors.BadResource` once this end is closed.
   */
  write(data: Uint8Array): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new Deno.errors.BadResource("Cannot write to stream: it is closed"));
    }
    if (data.length > 0) this.#emit(data.slice());
    return Promise.resolve();
  }

  /** Closes this end: pending reads resolve `null`, the peer reads EOF after the latency. */
  close(): void {
    if (this.#closeLocally()) this.#emit(null);
  }

  /** Closes this end even if its node is paused or killed (the kernel still sends the FIN). */
  abort(): void {
    if (this.#closeLocally()) this.#enqueue(null);
  }

  #closeLocally(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#node.conns.delete(this);
    this.#inbox = [];
    this.#inboxHead = 0;
    for (const reader of this.#readers.splice(0)) reader.resolve(null);
    return true;
  }

  /** Sends a chunk unless the node is paused (then at resume) or killed (then never). */
  #emit(data: Uint8Array | null): void {
    this.#node.run(() => this.#enqueue(data));
  }

  #enqueue(data: Uint8Array | null): void {
    const route = this.#route;
    const now = route.now();
    // Never earlier than the previous chunk: jitter must not reorder a byte stream.
    const at = Math.max(now + route.delay(this.#node, this.#peer!.#node), this.#lastAt);
    this.#lastAt = at;
    this.#outbox.push({ data, at });
    route.schedule(() => this.#pump(), at - now);
  }

  #pump(): void {
    if (this.#stalled) return; // a retry or a resume is already on its way
    const route = this.#route;
    const peer = this.#peer!;
    const outbox = this.#outbox;
    while (this.#outboxHead < outbox.length && outbox[this.#outboxHead]!.at <= route.now()) {
      if (peer.#node.state === "paused") {
        this.#stallUntil((wake) => peer.#node.run(wake));
        return;
      }
      if (route.cut(this.#node, peer.#node)) {
        this.#stallUntil((wake) => route.schedule(wake, route.retryMs));
        return;
      }
      const chunk = outbox[this.#outboxHead]!;
      outbox[this.#outboxHead++] = undefined;
      peer.#receive(chunk.data);
    }
    if (this.#outboxHead === outbox.length) {
      this.#outbox = [];
      this.#outboxHead = 0;
    }
  }

  #stallUntil(wait: (wake: () => void) => void): void {
    this.#stalled = true;
    wait(() => {
      this.#stalled = false;
      this.#pump();
    });
  }

  #receive(data: Uint8Array | null): void {
    if (this.#closed) return; // TCP would answer with a reset; the writer finds out by reading
    if (data === null) this.#eof = true;
    else this.#inbox.push(data);
    while (this.#readers.length > 0 && this.#inbox.length > 0) {
      const reader = this.#readers.shift()!;
      reader.resolve(this.#take(reader.buf));
    }
    if (this.#eof && this.#inbox.length === 0) {
      for (const reader of this.#readers.splice(0)) reader.resolve(null);
    }
  }

  #take(buf: Uint8Array): number {
    const head = this.#inbox[0];
    const n = Math.min(buf.length, head.length - this.#inboxHead);
    buf.set(head.subarray(this.#inboxHead, this.#inboxHead + n));
    this.#inboxHead += n;
    if (this.#inboxHead === head.length) {
      this.#inbox.shift();
      this.#inboxHead = 0;
    }
    return n;
  }
}
