/**
 * Outbound packets (§4.1, §10.3): piggybacking broadcasts on a message (memberlist's `sendMsg`),
 * raw sends (`rawSendMsgPacket`: compression when smaller, CRC for peers whose PMax ≥ 5, label),
 * and one gossip round to a member. Broadcast selection puts memberlist's own messages first and
 * fills what is left with the application's (framed as user messages). Internal.
 *
 * @module
 */

import type { Address, Transport } from "../transport/transport.ts";
import type { Logger } from "../util/log.ts";
import { bytesToIp } from "./_ip.ts";
import type { MembershipEncryption, SafeDelegate } from "./_hooks.ts";
import type { BroadcastQueue } from "./broadcast_queue.ts";
import {
  COMPOUND_HEADER_OVERHEAD,
  COMPOUND_PART_OVERHEAD,
  encodePacket,
  MAX_COMPOUND_PARTS,
  MessageType,
} from "./codec/mod.ts";
import type { MembershipConfig } from "./config.ts";
import type { Member } from "./node_types.ts";
import type { MembershipStats } from "./stats.ts";

/** The dial address of a member, or `undefined` when its IP bytes are not 4 or 16 long. */
export function addressOf(m: Pick<Member, "addr" | "port">): Address | undefined {
  const host = bytesToIp(m.addr);
  return host === undefined ? undefined : { host, port: m.port };
}

/** What {@link PacketIO} needs from the engine. */
export interface PacketIOOptions {
  transport: Transport;
  config: MembershipConfig;
  queue: BroadcastQueue;
  delegate: SafeDelegate;
  stats: MembershipStats;
  log: Logger;
  /** Encryption hooks, if any (used when `gossipVerifyOutgoing`). */
  encryption?: MembershipEncryption;
}

/** Builds and sends the engine's datagrams. */
export class PacketIO {
  readonly #o: PacketIOOptions;
  readonly #overhead: number;
  readonly #encrypt: MembershipEncryption["encryptPacket"] | undefined;

  /** @param options the engine's transport, config, queue, delegate, counters and logger */
  constructor(options: PacketIOOptions) {
    this.#o = options;
    const label = new TextEncoder().encode(options.config.label);
    const enc = options.config.gossipVerifyOutgoing ? options.encryption : undefined;
    this.#encrypt = enc?.encryptPacket;
    // Label header and encryption both eat into the packet budget (§10.3).
    this.#overhead = (label.length > 0 ? 2 + label.length : 0) + (enc?.packetOverhead ?? 0);
  }

  /**
   * Sends `msg` with as many pending broadcasts piggybacked as fit in `udpBufferSize`.
   * `peer`, when known, decides the CRC layer. Resolves `false` when the send failed.
   */
  send(to: Address, msg: Uint8Array, peer?: Member): Promise<boolean> {
    const avail = this.#o.config.udpBufferSize - msg.length - COMPOUND_HEADER_OVERHEAD -
      this.#overhead;
    const extra = this.getBroadcasts(COMPOUND_PART_OVERHEAD, avail);
    if (extra.length === 0) return this.sendRaw(to, [msg], peer);
    return this.#sendChunked(to, [msg, ...extra], peer);
  }

  /**
   * Sends `messages` as one datagram (a compound when several; at most 255), without
   * piggybacking. Never rejects.
   */
  async sendRaw(to: Address, messages: Uint8Array[], peer?: Member): Promise<boolean> {
    const { config, stats, transport, log } = this.#o;
    try {
      const packet = await encodePacket(messages, {
        compress: config.enableCompression,
        crc: peer !== undefined && peer.vsn.length >= 2 && peer.vsn[1] >= 5,
        label: config.label,
        encrypt: this.#encrypt,
      });
      const ok = await transport.sendPacket(to, packet);
      if (ok) {
        stats.packetsOut++;
        stats.bytesOut += packet.length;
      } else {
        stats.sendFailures++;
      }
      return ok;
    } catch (error) {
      stats.sendFailures++;
      log.debug("Cannot send packet", { to: `${to.host}:${to.port}`, error });
      return false;
    }
  }

  /**
   * One gossip round to `target`: as many broadcasts as fit one packet (one bare message, or
   * compounds of ≤ 255). Resolves `false` when there was nothing to send (a member with an
   * unusable address is skipped, resolving `true`).
   */
  async gossip(target: Member): Promise<boolean> {
    const to = addressOf(target);
    if (!to) return true;
    const avail = this.#o.config.udpBufferSize - COMPOUND_HEADER_OVERHEAD - this.#overhead;
    const msgs = this.getBroadcasts(COMPOUND_PART_OVERHEAD, avail);
    if (msgs.length === 0) return false;
    this.#o.stats.gossipPackets++;
    await this.#sendChunked(to, msgs, target);
    return true;
  }

  /**
   * Broadcasts for one packet: memberlist's own first, then the application's (each framed as a
   * user message) in the space left. `overhead` is per message, `limit` the bytes available.
   */
  getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    const toSend = this.#o.queue.getBroadcasts(overhead, limit);
    let used = 0;
    for (const m of toSend) used += m.length + overhead;
    const avail = limit - used;
    // One more byte per message for the user-message type byte we add.
    if (avail > overhead + 1) {
      for (const m of this.#o.delegate.getBroadcasts(overhead + 1, avail)) {
        const framed = new Uint8Array(m.length + 1);
        framed[0] = MessageType.user;
        framed.set(m, 1);
        toSend.push(framed);
      }
    }
    return toSend;
  }

  async #sendChunked(to: Address, msgs: Uint8Array[], peer?: Member): Promise<boolean> {
    let ok = true;
    for (let i = 0; i < msgs.length; i += MAX_COMPOUND_PARTS) {
      ok = (await this.sendRaw(to, msgs.slice(i, i + MAX_COMPOUND_PARTS), peer)) && ok;
    }
    return ok;
  }
}
