/**
 * The network as the membership protocol sees it, after memberlist's `Transport`: best-effort
 * datagrams ("packets") and reliable, connection-oriented byte streams, both on one address.
 * Implementations: {@link ../transport/deno_transport.ts} (UDP + TCP on one port) and an
 * in-memory network for deterministic tests with loss, delay and partitions.
 *
 * @module
 */

/** A host and port. `host` is an IP literal (IPv4 dotted or IPv6) or a name for dialing. */
export interface Address {
  /** IP literal or host name. */
  host: string;
  /** Port number, 0..65535. */
  port: number;
}

/** One received datagram. */
export interface Packet {
  /** The datagram's bytes (owned by the receiver). */
  data: Uint8Array;
  /** Source address of the datagram. */
  from: Address;
  /** Receive time in epoch ms, taken as early as possible (for RTT measurement). */
  receivedAt: number;
}

/** A reliable, ordered, bidirectional byte stream (a TCP connection or its in-memory twin). */
export interface StreamConn {
  /** The peer's address. */
  readonly remote: Address;
  /** Reads into `buf`; resolves to the count read, or `null` at end of stream. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Writes all of `data`. Rejects if the stream is closed or broken. */
  write(data: Uint8Array): Promise<void>;
  /** Closes both directions; pending reads resolve `null` or reject. Idempotent. */
  close(): void;
}

/** Handler for incoming packets. Must not throw; errors are the handler's to count and drop. */
export type PacketHandler = (packet: Packet) => void;
/** Handler for incoming streams; it owns the stream and must close it. */
export type StreamHandler = (conn: StreamConn) => void;

/** Packets and streams on one local address. */
export interface Transport {
  /** The bound address (with the real port when 0 was asked for). */
  readonly localAddress: Address;
  /** Sends one datagram, best effort: failures are reported by a resolved `false`, never thrown. */
  sendPacket(to: Address, data: Uint8Array): Promise<boolean>;
  /** Opens a stream to `to`, rejecting after `timeoutMs` or on refusal. */
  dialStream(to: Address, timeoutMs: number): Promise<StreamConn>;
  /** Registers the single packet handler (replaces any previous one). */
  onPacket(handler: PacketHandler): void;
  /** Registers the single stream handler (replaces any previous one). */
  onStream(handler: StreamHandler): void;
  /** Stops listening and closes sockets. Idempotent. */
  close(): Promise<void>;
}

/** Formats an address as `host:port`, bracketing IPv6 literals. */
export function formatAddress(a: Address): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * Parses `host:port` or `[v6]:port`. Throws a `TypeError` naming the input when malformed.
 * A missing port takes `defaultPort`.
 */
export function parseAddress(text: string, defaultPort?: number): Address {
  const s = text.trim();
  let host: string;
  let portText: string | undefined;
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0) throw new TypeError(`Cannot parse address: missing ']': received "${text}"`);
    host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) {
        throw new TypeError(`Cannot parse address: expected ':port' after ']': received "${text}"`);
      }
      portText = rest.slice(1);
    }
  } else {
    const colons = s.split(":").length - 1;
    if (colons === 1) {
      const i = s.lastIndexOf(":");
      host = s.slice(0, i);
      portText = s.slice(i + 1);
    } else {
      host = s; // no port, or a bare IPv6 literal
    }
  }
  if (host === "") throw new TypeError(`Cannot parse address: empty host: received "${text}"`);
  let port: number;
  if (portText === undefined) {
    if (defaultPort === undefined) {
      throw new TypeError(`Cannot parse address: missing port: received "${text}"`);
    }
    port = defaultPort;
  } else {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port > 65535) {
      throw new TypeError(`Cannot parse address: port must be 0..65535: received "${text}"`);
    }
  }
  return { host, port };
}
