/**
 * A transport decorator for simulations: counts stream bytes (the memory network counts only
 * datagrams) and can make a node slow at processing what it receives — a CPU-starved process
 * whose receive queue backs up while its timers still fire on time, which is the condition
 * Lifeguard was designed for. Inbound datagrams and streams are handed to the engine
 * `inboundDelayMs` late, in arrival order (a FIFO backlog never reorders), and every stream read
 * completes that much later too (dialed streams included: a TCP fallback ping from a slow node
 * must not see its answer on time either). Outbound traffic is untouched.
 *
 * @module
 */

import type { MemoryTransport } from "../../transport/memory_transport.ts";
import type {
  Address,
  PacketHandler,
  StreamConn,
  StreamHandler,
  Transport,
} from "../../transport/transport.ts";
import type { Clock } from "../../util/clock.ts";

/** Stream traffic of one {@link SimTransport}. */
export interface StreamTraffic {
  /** Bytes written to streams (dialed or accepted). */
  bytesOut: number;
  /** Bytes read from streams. */
  bytesIn: number;
}

/** A {@link MemoryTransport} with stream byte counters and an optional processing delay. */
export class SimTransport implements Transport {
  /** Stream byte counters (live). */
  readonly streams: StreamTraffic = { bytesOut: 0, bytesIn: 0 };
  readonly #inner: MemoryTransport;
  #delayMs = 0;
  #lastDue = 0;

  /** @param inner the attached memory transport */
  constructor(inner: MemoryTransport) {
    this.#inner = inner;
  }

  /** The wrapped transport (state, datagram counters). */
  get inner(): MemoryTransport {
    return this.#inner;
  }

  /** The node's pause-aware clock. */
  get clock(): Clock {
    return this.#inner.clock;
  }

  /** Extra delay before the engine sees each inbound datagram or stream, ms (0 = none). */
  get inboundDelayMs(): number {
    return this.#delayMs;
  }

  set inboundDelayMs(ms: number) {
    if (!(Number.isFinite(ms) && ms >= 0)) {
      throw new RangeError(`Cannot set inbound delay: must be a finite ms >= 0: received ${ms}`);
    }
    this.#delayMs = ms;
  }

  /** The bound address. */
  get localAddress(): Address {
    return this.#inner.localAddress;
  }

  /** Sends one datagram. */
  sendPacket(to: Address, data: Uint8Array): Promise<boolean> {
    return this.#inner.sendPacket(to, data);
  }

  /** Dials a stream; its bytes are counted. */
  async dialStream(to: Address, timeoutMs: number): Promise<StreamConn> {
    return this.#count(await this.#inner.dialStream(to, timeoutMs));
  }

  /** Registers the packet handler behind the processing delay. */
  onPacket(handler: PacketHandler): void {
    this.#inner.onPacket((packet) =>
      this.#later(() => handler({ ...packet, receivedAt: this.clock.now() }))
    );
  }

  /** Registers the stream handler behind the processing delay. */
  onStream(handler: StreamHandler): void {
    this.#inner.onStream((conn) => this.#later(() => handler(this.#count(conn))));
  }

  /** Closes the wrapped transport. */
  close(): Promise<void> {
    return this.#inner.close();
  }

  #later(fn: () => void): void {
    if (this.#delayMs === 0 && this.#lastDue <= this.clock.now()) return fn();
    const due = Math.max(this.clock.now() + this.#delayMs, this.#lastDue);
    this.#lastDue = due;
    this.clock.setTimeout(fn, due - this.clock.now());
  }

  #count(conn: StreamConn): StreamConn {
    const traffic = this.streams;
    return {
      remote: conn.remote,
      read: async (buf) => {
        const n = await conn.read(buf);
        // A slow process also reads its sockets late, in the same backlog as its datagrams.
        if (this.#delayMs > 0) await new Promise<void>((resolve) => this.#later(resolve));
        if (n !== null) traffic.bytesIn += n;
        return n;
      },
      write: (data) => {
        traffic.bytesOut += data.length;
        return conn.write(data);
      },
      close: () => conn.close(),
    };
  }
}
