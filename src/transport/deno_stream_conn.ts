/**
 * {@link StreamConn} over a `Deno.Conn` (TCP). Adds what the interface promises and `Deno.Conn`
 * does not: `write` writes every byte, `close` is idempotent, and reads after or during our own
 * close resolve `null` instead of throwing `BadResource`/`Interrupted`. In-flight operations are
 * tracked so the owning transport can wait for them on shutdown (Deno's op sanitizer).
 *
 * @module
 */

import type { Address, StreamConn } from "./transport.ts";

/** A TCP stream as a {@link StreamConn}. */
export class DenoStreamConn implements StreamConn {
  /** The peer's address. */
  readonly remote: Address;
  #conn: Deno.Conn;
  #closed = false;
  #inFlight = new Set<Promise<unknown>>();
  #onClose: ((conn: DenoStreamConn) => void) | undefined;

  /**
   * @param conn the connection to own; it is closed by {@link DenoStreamConn.close}.
   * @param onClose called once, when the stream is closed (the transport forgets it then).
   */
  constructor(conn: Deno.Conn, onClose?: (conn: DenoStreamConn) => void) {
    this.#conn = conn;
    this.#onClose = onClose;
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.remote = Object.freeze({ host: addr.hostname, port: addr.port });
  }

  /** Whether {@link DenoStreamConn.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Reads into `buf`; resolves to the count read, or `null` at end of stream or once closed.
   * Rejects on a broken connection (for example `Deno.errors.ConnectionReset`).
   */
  async read(buf: Uint8Array): Promise<number | null> {
    if (this.#closed) return null;
    try {
      return await this.#track(this.#conn.read(buf));
    } catch (error) {
      if (this.#closed) return null;
      throw error;
    }
  }

  /** Writes all of `data`. Rejects with `Deno.errors.BadResource` once closed. */
  async write(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      if (this.#closed) throw this.#closedError();
      try {
        offset += await this.#track(this.#conn.write(data.subarray(offset)));
      } catch (error) {
        if (this.#closed) throw this.#closedError();
        throw error;
      }
    }
  }

  /** Closes both directions; a pending read resolves `null`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime (peer reset); nothing left to release.
    }
    this.#onClose?.(this);
  }

  /** Resolves once no read or write on the underlying connection is in flight. */
  async drained(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #track<T>(op: Promise<T>): Promise<T> {
    this.#inFlight.add(op);
    const forget = () => this.#inFlight.delete(op);
    op.then(forget, forget);
    return op;
  }

  #closedError(): Error {
    return new Deno.errors.BadResource("Cannot write to stream: it is closed");
  }
}
