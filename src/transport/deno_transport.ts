/**
 * The real network: UDP packets and TCP streams on one host:port, as memberlist does it. UDP is
 * sent from the listening socket, so a packet's source port is the node's port (older peers
 * answer to the source). Receive and accept loops never die on an error: they log through the
 * injected logger, count it, back off briefly when errors repeat, and go on.
 *
 * Written by hand: nothing in our dependencies binds UDP and TCP to one port.
 *
 * @module
 */

import { type Clock, systemClock, type TimerId } from "../util/clock.ts";
import { listenError } from "../util/listen_error.ts";
import { DenoStreamConn } from "./deno_stream_conn.ts";
import { consoleLogger, type TransportLogger } from "./logger.ts";
import { createTransportStats, type TransportStats } from "./stats.ts";
import {
  type Address,
  formatAddress,
  type PacketHandler,
  type StreamConn,
  type StreamHandler,
  type Transport,
} from "./transport.ts";

/** Options of {@link DenoTransport.listen}. */
export interface DenoTransportOptions {
  /** Interface to bind, an IP literal. @default {"0.0.0.0"} */
  hostname?: string;
  /** Port for both UDP and TCP; 0 picks one that is free for both. @default {7946} */
  port?: number;
  /**
   * Address to report as {@link DenoTransport.localAddress} instead of the bound one (set it
   * when binding a wildcard address or behind NAT). @default {undefined}
   */
  advertise?: Address;
  /** Time source for `receivedAt`, dial timeouts and error back-off. @default {systemClock} */
  clock?: Clock;
  /** Where I/O errors and drops are reported. @default {consoleLogger} */
  logger?: TransportLogger;
  /** Largest datagram accepted; larger ones are dropped and counted. @default {65536} */
  maxPacketSize?: number;
  /** How many ports to try when `port` is 0 (UDP may be taken where TCP was free). @default {10} */
  bindAttempts?: number;
}

// Repeated loop errors back off from 5 ms, doubling to 1 s, like Go's accept loop.
const BACKOFF_MIN_MS = 5;
const BACKOFF_MAX_MS = 1000;

/**
 * UDP + TCP on one address, implementing {@link Transport} with `Deno.listenDatagram` (needs the
 * `net` unstable flag) and `Deno.listen`/`Deno.connect`.
 *
 * The receive loop starts at the first {@link DenoTransport.onPacket} and the accept loop at the
 * first {@link DenoTransport.onStream}; until then the kernel holds the traffic.
 */
export class DenoTransport implements Transport {
  /** The advertised address, or the bound one with its real port. */
  readonly localAddress: Address;
  #udp: Deno.DatagramConn;
  #tcp: Deno.TcpListener;
  #clock: Clock;
  #log: TransportLogger;
  #maxPacketSize: number;
  #name: string;
  #stats = createTransportStats();
  #packetHandler: PacketHandler | undefined;
  #streamHandler: StreamHandler | undefined;
  #loops: Promise<void>[] = [];
  #conns = new Set<DenoStreamConn>();
  #dials = new Set<AbortController>();
  #sends = new Set<Promise<unknown>>();
  #sleeps = new Map<TimerId, () => void>();
  #closing: Promise<void> | undefined;

  private constructor(
    udp: Deno.DatagramConn,
    tcp: Deno.TcpListener,
    options: DenoTransportOptions,
  ) {
    this.#udp = udp;
    this.#tcp = tcp;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? consoleLogger;
    this.#maxPacketSize = options.maxPacketSize ?? 65536;
    const bound = tcp.addr;
    this.localAddress = Object.freeze(
      options.advertise ?? { host: bound.hostname, port: bound.port },
    );
    this.#name = formatAddress({ host: bound.hostname, port: bound.port });
  }

  /**
   * Binds UDP and TCP on the same host:port. Throws the runtime's error (for example
   * `Deno.errors.AddrInUse`) when the port cannot be bound, and a `RangeError` on bad options.
   */
  static listen(options: DenoTransportOptions = {}): DenoTransport {
    const hostname = options.hostname ?? "0.0.0.0";
    const port = options.port ?? 7946;
    const maxPacketSize = options.maxPacketSize ?? 65536;
    const attempts = port === 0 ? (options.bindAttempts ?? 10) : 1;
    checkInteger("port", port, 0, 65535);
    checkInteger("maxPacketSize", maxPacketSize, 1, 65536);
    checkInteger("bindAttempts", attempts, 1, 1000);
    if (typeof Deno.listenDatagram !== "function") {
      throw new TypeError(
        `Cannot listen for gossip (UDP) on ${hostname}:${port}: Deno.listenDatagram is unstable: run with --unstable-net (or "unstable": ["net"] in deno.json)`,
      );
    }
    for (let attempt = 1;; attempt++) {
      // TCP first: with port 0 the kernel picks a port free for TCP, then UDP must follow it.
      let tcp: Deno.TcpListener;
      try {
        tcp = Deno.listen({ hostname, port, transport: "tcp" });
      } catch (error) {
        throw listenError("gossip (TCP)", hostname, port, error);
      }
      try {
        const udp = Deno.listenDatagram({ hostname, port: tcp.addr.port, transport: "udp" });
        return new DenoTransport(udp, tcp, options);
      } catch (error) {
        tcp.close();
        if (!(error instanceof Deno.errors.AddrInUse) || attempt >= attempts) {
          throw listenError("gossip (UDP)", hostname, tcp.addr.port, error);
        }
      }
    }
  }

  /** Live traffic counters. */
  get stats(): Readonly<TransportStats> {
    return this.#stats;
  }

  /** Whether {@link DenoTransport.close} has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Sends one datagram from the listening socket; resolves `false` on any failure. */
  async sendPacket(to: Address, data: Uint8Array): Promise<boolean> {
    if (this.closed) return false;
    const op = this.#udp.send(data, { transport: "udp", hostname: to.host, port: to.port });
    this.#sends.add(op);
    try {
      await op;
      this.#stats.packetsOut++;
      this.#stats.bytesOut += data.length;
      return true;
    } catch (error) {
      if (this.closed) return false;
      this.#stats.errors++;
      this.#log("warn", `${this.#name}: cannot send packet to ${formatAddress(to)}`, error);
      return false;
    } finally {
      this.#sends.delete(op);
    }
  }

  /**
   * Opens a TCP stream to `to`. Rejects with `Deno.errors.TimedOut` after `timeoutMs` (on the
   * injected clock), with the runtime's error on refusal, and with `Deno.errors.BadResource`
   * once the transport is closed.
   */
  async dialStream(to: Address, timeoutMs: number): Promise<StreamConn> {
    if (this.closed) {
      throw new Deno.errors.BadResource(`Cannot dial ${formatAddress(to)}: transport is closed`);
    }
    const abort = new AbortController();
    this.#dials.add(abort);
    const timeout = new Deno.errors.TimedOut(
      `Cannot dial ${formatAddress(to)}: timed out after ${timeoutMs} ms`,
    );
    // Deno.connect has no timeout; aborting its signal cancels the pending connect op.
    const timer = this.#clock.setTimeout(() => abort.abort(timeout), timeoutMs);
    try {
      const conn = await Deno.connect({ hostname: to.host, port: to.port, signal: abort.signal });
      if (this.closed) {
        conn.close();
        throw new Deno.errors.BadResource(`Cannot dial ${formatAddress(to)}: transport is closed`);
      }
      this.#stats.streamsOut++;
      return this.#wrap(conn);
    } catch (error) {
      this.#stats.dialFailures++;
      throw abort.signal.aborted ? abort.signal.reason : error;
    } finally {
      this.#clock.clearTimeout(timer);
      this.#dials.delete(abort);
    }
  }

  /** Registers the packet handler and starts the receive loop. */
  onPacket(handler: PacketHandler): void {
    const first = this.#packetHandler === undefined;
    this.#packetHandler = handler;
    if (first && !this.closed) this.#loops.push(this.#receiveLoop());
  }

  /** Registers the stream handler and starts the accept loop. */
  onStream(handler: StreamHandler): void {
    const first = this.#streamHandler === undefined;
    this.#streamHandler = handler;
    if (first && !this.closed) this.#loops.push(this.#acceptLoop());
  }

  /**
   * Stops the loops, closes both sockets, every stream this transport dialed or accepted, and
   * pending dials; resolves once no operation is left in flight. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** Same as {@link DenoTransport.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    for (const socket of [this.#udp, this.#tcp]) {
      try {
        socket.close();
      } catch {
        // Already closed by the runtime.
      }
    }
    for (const abort of this.#dials) {
      abort.abort(new Deno.errors.BadResource("Cannot dial: transport is closed"));
    }
    for (const [timer, wake] of this.#sleeps) {
      this.#clock.clearTimeout(timer);
      wake();
    }
    const conns = [...this.#conns];
    for (const conn of conns) conn.close();
    await Promise.allSettled([...this.#loops, ...this.#sends]);
    await Promise.all(conns.map((conn) => conn.drained()));
  }

  async #receiveLoop(): Promise<void> {
    // One buffer for every read, one byte larger than the limit so oversize is detectable.
    const buffer = new Uint8Array(this.#maxPacketSize + 1);
    let failures = 0;
    while (!this.closed) {
      let received: [Uint8Array, Deno.Addr];
      try {
        received = await this.#udp.receive(buffer);
      } catch (error) {
        if (this.closed) return;
        this.#stats.errors++;
        this.#log("warn", `${this.#name}: cannot receive packet`, error);
        await this.#backOff(++failures);
        continue;
      }
      const receivedAt = this.#clock.now();
      failures = 0;
      this.#deliverPacket(received[0], received[1] as Deno.NetAddr, receivedAt);
    }
  }

  #deliverPacket(view: Uint8Array, from: Deno.NetAddr, receivedAt: number): void {
    const handler = this.#packetHandler;
    if (view.length === 0 || view.length > this.#maxPacketSize || handler === undefined) {
      this.#stats.packetsDropped++;
      this.#log(
        "debug",
        `${this.#name}: dropped a ${view.length}-byte packet from ${from.hostname}`,
      );
      return;
    }
    this.#stats.packetsIn++;
    this.#stats.bytesIn += view.length;
    const packet = {
      data: view.slice(),
      from: { host: from.hostname, port: from.port },
      receivedAt,
    };
    try {
      handler(packet);
    } catch (error) {
      this.#stats.errors++;
      this.#log("error", `${this.#name}: packet handler threw`, error);
    }
  }

  async #acceptLoop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      let conn: Deno.Conn;
      try {
        conn = await this.#tcp.accept();
      } catch (error) {
        if (this.closed) return;
        this.#stats.errors++;
        this.#log("warn", `${this.#name}: cannot accept stream`, error);
        await this.#backOff(++failures);
        continue;
      }
      failures = 0;
      if (this.closed) {
        conn.close();
        return;
      }
      this.#stats.streamsIn++;
      const stream = this.#wrap(conn);
      try {
        this.#streamHandler!(stream);
      } catch (error) {
        this.#stats.errors++;
        this.#log("error", `${this.#name}: stream handler threw`, error);
        stream.close();
      }
    }
  }

  #wrap(conn: Deno.Conn): DenoStreamConn {
    try {
      (conn as Deno.TcpConn).setNoDelay(true);
    } catch {
      // Not fatal: only latency of small writes is affected.
    }
    const stream = new DenoStreamConn(conn, (closed) => this.#conns.delete(closed));
    this.#conns.add(stream);
    return stream;
  }

  /** Waits before retrying after the `failures`-th consecutive error (none after the first). */
  #backOff(failures: number): Promise<void> {
    if (failures < 2 || this.closed) return Promise.resolve();
    const ms = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (failures - 2));
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => {
        this.#sleeps.delete(timer);
        resolve();
      }, ms);
      this.#sleeps.set(timer, resolve);
    });
  }
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot create transport: ${name} must be an integer in ${min}..${max}: received ${value}`,
    );
  }
}
