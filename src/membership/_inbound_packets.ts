/**
 * Inbound datagrams (§3, §4.1): decode through the codec's pipeline (label, CRC, compound,
 * compression, caps), then dispatch each message — answer pings, serve indirect pings (relay the
 * ack, nack after probeTimeout), resolve ack/nack waiters, feed alive/suspect/dead to the member
 * table, hand user messages to the delegate. A bad packet or part is dropped, counted and logged
 * at debug; nothing escapes to the transport. Internal.
 *
 * @module
 */

import type { Address, Packet } from "../transport/transport.ts";
import { bytesToIp } from "./_ip.ts";
import type { EngineContext } from "./_context.ts";
import { decodePacket, encodeMessage, type IndirectPingMessage, MessageType } from "./codec/mod.ts";
import type { PacketMessage, PingMessage } from "./codec/mod.ts";
import { countReason } from "./stats.ts";

/** Largest decompressed size accepted for one datagram (a legitimate one is under 64 KiB). */
const MAX_PACKET_DECOMPRESSED = 4 * 1024 * 1024;
/** Most messages one datagram may carry (gossip sends at most 255 per compound). */
const MAX_PACKET_PARTS = 2048;
const EMPTY = new Uint8Array(0);

/** Handles one datagram. Never throws or rejects. */
export async function handlePacket(ctx: EngineContext, packet: Packet): Promise<void> {
  const { stats, log } = ctx;
  stats.packetsIn++;
  stats.bytesIn += packet.data.length;
  const result = await decodePacket(packet.data, {
    label: ctx.config.label,
    maxDecompressed: MAX_PACKET_DECOMPRESSED,
    maxParts: MAX_PACKET_PARTS,
    decrypt: ctx.encryption?.decryptPacket,
    verifyIncoming: ctx.config.gossipVerifyIncoming,
  });
  if (ctx.closed) return;
  const from = `${packet.from.host}:${packet.from.port}`;
  if (!result.ok) {
    drop(ctx, result.error.reason, result.error.message, from);
    stats.packetsDropped++;
    return;
  }
  for (const problem of result.problems) drop(ctx, problem.reason, problem.message, from);
  for (const message of result.messages) {
    try {
      dispatch(ctx, message, packet);
    } catch (error) {
      // Only a bug gets here; the packet loop must survive it.
      countReason(stats.dropped, "handler-error");
      log.warn("Packet handler failed", { from, type: message.type, error });
    }
  }
}

function drop(ctx: EngineContext, reason: string, message: string, from: string): void {
  countReason(ctx.stats.dropped, reason);
  if (ctx.log.enabled("debug")) ctx.log.debug("Dropped packet", { from, reason, message });
}

function dispatch(ctx: EngineContext, m: PacketMessage, packet: Packet): void {
  switch (m.type) {
    case MessageType.ping:
      return handlePing(ctx, m.body, packet);
    case MessageType.indirectPing:
      return handleIndirectPing(ctx, m.body, packet);
    case MessageType.ackResp:
      if (ctx.acks.ack(m.body.seqNo, m.body.payload ?? EMPTY, packet.receivedAt)) {
        ctx.stats.acksIn++;
      } else ctx.stats.acksUnmatched++;
      return;
    case MessageType.nackResp:
      if (ctx.acks.nack(m.body.seqNo)) ctx.stats.nacksIn++;
      return;
    case MessageType.suspect:
      return ctx.apply(ctx.table.suspectNode(m.body));
    case MessageType.alive: {
      const a = m.body;
      // Peers speaking protocol 1 send no port; memberlist masks it with its bind port.
      const port = a.port === 0 || ctx.config.protocolVersion < 2 ? ctx.bindPort : a.port;
      return ctx.apply(ctx.table.aliveNode({
        incarnation: a.incarnation,
        node: a.node,
        addr: a.addr ?? EMPTY,
        port,
        meta: a.meta ?? EMPTY,
        vsn: a.vsn ?? EMPTY,
      }));
    }
    case MessageType.dead:
      return ctx.apply(ctx.table.deadNode(m.body));
    case MessageType.user:
      ctx.stats.userMessagesIn++;
      return ctx.delegate.notifyMessage(m.body);
  }
}

/** Where to answer: the Source* fields when both are set (trap T8), else the datagram source. */
function replyAddress(
  m: Pick<PingMessage, "sourceAddr" | "sourcePort">,
  packet: Packet,
): Address {
  if (m.sourceAddr && m.sourceAddr.length > 0 && m.sourcePort) {
    const host = bytesToIp(m.sourceAddr);
    if (host !== undefined) return { host, port: m.sourcePort };
  }
  return packet.from;
}

function handlePing(ctx: EngineContext, ping: PingMessage, packet: Packet): void {
  // A ping for another name reached a restarted process on a reused address: stay silent.
  if (ping.node !== "" && ping.node !== ctx.name) {
    drop(ctx, "wrong-node", `ping for '${ping.node}'`, `${packet.from.host}:${packet.from.port}`);
    return;
  }
  const peer = ping.sourceNode ? ctx.table.get(ping.sourceNode) : undefined;
  const ack = encodeMessage(MessageType.ackResp, { seqNo: ping.seqNo, payload: null });
  void ctx.io.send(replyAddress(ping, packet), ack, peer);
}

function handleIndirectPing(ctx: EngineContext, ind: IndirectPingMessage, packet: Packet): void {
  const host = bytesToIp(ind.target ?? EMPTY);
  if (host === undefined) {
    drop(ctx, "bad-address", `indirect ping target for '${ind.node}'`, packet.from.host);
    return;
  }
  ctx.stats.indirectPingsServed++;
  const port = ind.port === 0 || ctx.config.protocolVersion < 2 ? ctx.bindPort : ind.port;
  const replyTo = replyAddress(ind, packet);
  const requester = ind.sourceNode ? ctx.table.get(ind.sourceNode) : undefined;
  const { probeTimeout } = ctx.config;
  const localSeqNo = ctx.nextSeqNo();
  let nackTimer: unknown;
  ctx.acks.register(localSeqNo, {
    onAck: () => {
      ctx.timers.cancel(nackTimer);
      // Relayed acks carry the requester's SeqNo and no payload.
      const ack = encodeMessage(MessageType.ackResp, { seqNo: ind.seqNo, payload: null });
      void ctx.io.send(replyTo, ack, requester);
    },
  }, probeTimeout);
  const ping = encodeMessage(MessageType.ping, {
    seqNo: localSeqNo,
    node: ind.node,
    sourceAddr: ctx.self.addr,
    sourcePort: ctx.self.port,
    sourceNode: ctx.name,
  });
  void ctx.io.send({ host, port }, ping, ctx.table.get(ind.node));
  if (ind.nack) {
    nackTimer = ctx.timers.after(probeTimeout, () => {
      ctx.stats.nacksOut++;
      const nack = encodeMessage(MessageType.nackResp, { seqNo: ind.seqNo });
      void ctx.io.send(replyTo, nack, requester);
    });
  }
}
