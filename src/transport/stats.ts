/**
 * Traffic counters shared by every transport, so metrics code reads a Deno and an in-memory
 * transport the same way.
 *
 * @module
 */

/**
 * Counters of one transport since it was created. The transport updates the fields in place;
 * readers get the live object typed read-only (copy it with `{ ...stats }` for a snapshot).
 */
export interface TransportStats {
  /** Datagrams handed to the packet handler. */
  packetsIn: number;
  /** Bytes of the datagrams handed to the packet handler. */
  bytesIn: number;
  /** Datagrams sent (for the in-memory network: accepted by the network, even if later lost). */
  packetsOut: number;
  /** Bytes of the datagrams sent. */
  bytesOut: number;
  /** Datagrams received but dropped: empty, oversized, no handler, or (in memory) queue full. */
  packetsDropped: number;
  /** I/O errors survived: failed sends and receives, failed accepts, handlers that threw. */
  errors: number;
  /** Streams accepted and handed to the stream handler. */
  streamsIn: number;
  /** Streams dialed successfully. */
  streamsOut: number;
  /** Dials that failed: refused, timed out, or unreachable. */
  dialFailures: number;
}

/** Returns a fresh set of counters, all zero. */
export function createTransportStats(): TransportStats {
  return {
    packetsIn: 0,
    bytesIn: 0,
    packetsOut: 0,
    bytesOut: 0,
    packetsDropped: 0,
    errors: 0,
    streamsIn: 0,
    streamsOut: 0,
    dialFailures: 0,
  };
}
