/**
 * Stream exchanges (§5.2): answering inbound streams (push/pull, TCP ping, reliable user
 * message; anything else ignored; errResp when the initiator's message cannot be read), and the
 * initiator side of push/pull, of the TCP fallback ping and of reliable user messages. Every
 * stream has a `tcpTimeout` deadline (the probe deadline for TCP pings) and is always closed.
 * Internal.
 *
 * @module
 */

import type { Address, StreamConn } from "../transport/transport.ts";
import type { EngineContext } from "./_context.ts";
import { untilAborted } from "./_timers.ts";
import {
  encodeMessage,
  encodePushPull,
  encodeStreamMessage,
  encodeUserMessageStream,
  MAX_DECOMPRESSED_BYTES,
  MessageType,
  type PingMessage,
  type PushNodeSource,
  type PushPullMessage,
  type StreamEncodeOptions,
  StreamError,
  StreamReader,
  type StreamReaderOptions,
} from "./codec/mod.ts";
import { type MembershipEffect, NodeState, type PushNodeRecord } from "./node_types.ts";
import { countReason } from "./stats.ts";

/** memberlist's `maxPushPullRequests`: inbound push/pulls beyond this many at once are refused. */
export const MAX_CONCURRENT_PUSH_PULLS = 128;
/** Most bytes read from one stream (the decompressed cap plus slack for framing). */
const MAX_STREAM_BYTES = MAX_DECOMPRESSED_BYTES + (1 << 20);
const EMPTY = new Uint8Array(0);

/** Per-engine stream bookkeeping. */
export interface StreamState {
  /** Inbound push/pulls being answered now. */
  pushPulls: number;
}

/** Handles one inbound stream to the end and closes it. Never rejects. */
export async function handleStream(
  ctx: EngineContext,
  state: StreamState,
  conn: StreamConn,
): Promise<void> {
  ctx.stats.streamsIn++;
  const deadline = ctx.timers.deadline(ctx.config.tcpTimeout);
  const from = `${conn.remote.host}:${conn.remote.port}`;
  try {
    const reader = new StreamReader(conn, readerOptions(ctx, deadline.signal));
    let msg;
    try {
      await reader.readLabel();
      msg = await reader.readMessage();
    } catch (error) {
      await onReadError(ctx, conn, error, from, deadline.signal);
      return;
    }
    if (ctx.closed) return;
    switch (msg.type) {
      case MessageType.pushPull:
        // As memberlist: the 128th concurrent push/pull is refused (the peer sees EOF).
        if (++state.pushPulls >= MAX_CONCURRENT_PUSH_PULLS) {
          state.pushPulls--;
          countReason(ctx.stats.streamErrors, "too-many-push-pulls");
          ctx.log.warn("Too many pending push/pull requests", { from });
          return;
        }
        try {
          return await answerPushPull(ctx, conn, msg.body, deadline.signal, from);
        } finally {
          state.pushPulls--;
        }
      case MessageType.ping: {
        if (msg.body.node !== "" && msg.body.node !== ctx.name) {
          countReason(ctx.stats.streamErrors, "wrong-node");
          return;
        }
        const ack = encodeMessage(MessageType.ackResp, { seqNo: msg.body.seqNo, payload: null });
        const out = await encodeStreamMessage(ack, streamOptions(ctx, false));
        await untilAborted(conn.write(out), deadline.signal, "Cannot answer TCP ping");
        return;
      }
      case MessageType.user:
        ctx.stats.userMessagesIn++;
        return ctx.delegate.notifyMessage(msg.body);
      default:
        countReason(ctx.stats.streamErrors, "unexpected-type");
        ctx.log.debug("Ignored stream message", { from, type: msg.type });
    }
  } catch (error) {
    countReason(ctx.stats.streamErrors, "failed");
    ctx.log.debug("Stream exchange failed", { from, error });
  } finally {
    deadline.dispose();
    conn.close();
  }
}

async function onReadError(
  ctx: EngineContext,
  conn: StreamConn,
  error: unknown,
  from: string,
  signal: AbortSignal,
): Promise<void> {
  const reason = error instanceof StreamError ? error.reason : "failed";
  countReason(ctx.stats.streamErrors, reason);
  ctx.log.debug("Cannot read stream", { from, reason, error });
  // memberlist answers errResp unless the peer is gone; a wrong label or type gets silence.
  if (reason === "closed" || reason === "label" || reason === "unsupported-type") return;
  if (reason === "timeout") return;
  try {
    const message = error instanceof Error ? error.message : String(error);
    const resp = encodeMessage(MessageType.errResp, { error: message });
    const out = await encodeStreamMessage(resp, streamOptions(ctx, false));
    await untilAborted(conn.write(out), signal, "Cannot send errResp");
  } catch {
    // The initiator is gone or stuck; it will time out on its own.
  }
}

async function answerPushPull(
  ctx: EngineContext,
  conn: StreamConn,
  remote: PushPullMessage,
  signal: AbortSignal,
  from: string,
): Promise<void> {
  const join = remote.header.join;
  // Reply with our state as it was before merging theirs, as memberlist does.
  const out = await encodeLocalState(ctx, join, false);
  await untilAborted(conn.write(out), signal, "Cannot send push/pull reply");
  try {
    mergeRemoteState(ctx, remote);
    ctx.stats.pushPullsIn++;
  } catch (error) {
    ctx.stats.pushPullFailures++;
    ctx.log.warn("Cannot merge push/pull state", { from, error });
  }
}

/** "H", the first byte of an HTTP response: no memberlist message type has this value. */
const HTTP_FIRST_BYTE = 0x48;

/**
 * Runs a push/pull with `to` (join or anti-entropy): send our state, read theirs, merge it.
 * Rejects when the exchange or the merge fails (e.g. `remote error: ...`).
 */
export async function pushPull(ctx: EngineContext, to: Address, join: boolean): Promise<void> {
  const conn = await ctx.transport.dialStream(to, ctx.config.tcpTimeout);
  ctx.stats.streamsOut++;
  const sending = ctx.timers.deadline(ctx.config.tcpTimeout);
  let reading: { signal: AbortSignal; dispose(): void } | undefined;
  try {
    const out = await encodeLocalState(ctx, join, true);
    await untilAborted(conn.write(out), sending.signal, "Cannot send push/pull");
    reading = ctx.timers.deadline(ctx.config.tcpTimeout);
    const reader = new StreamReader(conn, readerOptions(ctx, reading.signal));
    const reply = await reader.readMessage();
    if (reply.type === MessageType.errResp) {
      throw new Error(`Cannot push/pull: remote error: ${reply.body.error}`);
    }
    if (reply.type !== MessageType.pushPull) {
      throw new TypeError(
        `Cannot push/pull: expected a pushPull reply: received type ${reply.type}`,
      );
    }
    if (ctx.closed) return;
    mergeRemoteState(ctx, reply.body);
    ctx.stats.pushPullsOut++;
  } catch (error) {
    ctx.stats.pushPullFailures++;
    if (error instanceof StreamError && error.messageType === HTTP_FIRST_BYTE) {
      // "HTTP/1.1 400 Bad Request": a seed given as the HTTP port instead of the gossip port.
      throw new Error(
        `${to.host}:${to.port} answered with HTTP: PEER must name a gossip port (PORT), not an HTTP port`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    sending.dispose();
    reading?.dispose();
    conn.close();
  }
}

/**
 * The TCP fallback ping (§5.2): the very same ping over a stream, answered by an ack with its
 * SeqNo, all before `deadline` (epoch ms). Resolves `false` when the target cannot be dialed
 * (a dead node is expected to fail); rejects on other trouble.
 */
export async function tcpPing(
  ctx: EngineContext,
  to: Address,
  ping: PingMessage,
  deadline: number,
): Promise<boolean> {
  const remaining = deadline - ctx.clock.now();
  if (remaining <= 0) return false;
  let conn: StreamConn;
  try {
    conn = await ctx.transport.dialStream(to, remaining);
  } catch {
    return false;
  }
  ctx.stats.streamsOut++;
  const timer = ctx.timers.deadline(deadline - ctx.clock.now());
  try {
    const out = await encodeStreamMessage(
      encodeMessage(MessageType.ping, ping),
      streamOptions(ctx, true),
    );
    await untilAborted(conn.write(out), timer.signal, "Cannot send TCP ping");
    const reader = new StreamReader(conn, {
      ...readerOptions(ctx, timer.signal),
      maxBytes: 1 << 16,
    });
    const reply = await reader.readMessage();
    if (reply.type !== MessageType.ackResp) {
      throw new TypeError(`Cannot TCP ping: expected an ack: received type ${reply.type}`);
    }
    if (reply.body.seqNo !== ping.seqNo) {
      throw new RangeError(
        `Cannot TCP ping: ack SeqNo must be ${ping.seqNo}: received ${reply.body.seqNo}`,
      );
    }
    return true;
  } finally {
    timer.dispose();
    conn.close();
  }
}

/** Sends a reliable user message over a fresh stream. Rejects when it cannot be delivered. */
export async function sendUserStream(
  ctx: EngineContext,
  to: Address,
  payload: Uint8Array,
): Promise<void> {
  const conn = await ctx.transport.dialStream(to, ctx.config.tcpTimeout);
  ctx.stats.streamsOut++;
  const timer = ctx.timers.deadline(ctx.config.tcpTimeout);
  try {
    const out = await encodeUserMessageStream(payload, streamOptions(ctx, true));
    await untilAborted(conn.write(out), timer.signal, "Cannot send user message");
    ctx.stats.userMessagesOut++;
  } finally {
    timer.dispose();
    conn.close();
  }
}

function streamOptions(ctx: EngineContext, dialer: boolean): StreamEncodeOptions {
  const { config, encryption } = ctx;
  return {
    compress: config.enableCompression,
    label: config.label,
    writeLabelHeader: dialer,
    encrypt: config.gossipVerifyOutgoing ? encryption?.streamSealer : undefined,
  };
}

function readerOptions(ctx: EngineContext, signal: AbortSignal): StreamReaderOptions {
  const { config, encryption } = ctx;
  return {
    maxBytes: MAX_STREAM_BYTES,
    signal,
    label: config.label,
    decrypt: encryption?.decryptStream,
    requireEncryption: encryption !== undefined && config.gossipVerifyIncoming,
  };
}

async function encodeLocalState(
  ctx: EngineContext,
  join: boolean,
  dialer: boolean,
): Promise<Uint8Array> {
  const { table } = ctx;
  const nodes: PushNodeSource = {
    size: table.numNodes,
    forEachRecord: (visit) => table.forEachRecord(visit),
  };
  const userState = ctx.delegate.localState(join);
  return await encodePushPull({ join }, nodes, userState, streamOptions(ctx, dialer));
}

/**
 * memberlist's `mergeRemoteState`: check protocol versions (throws a `RangeError` on a
 * mismatch), merge the member records, then hand a non-empty user state to the delegate.
 * Records are merged one by one in order; an alive record that cannot change anything
 * ({@link MemberTable.isStaleAlive}, checked against the table as the earlier records left it)
 * is skipped before a record is built for it.
 */
function mergeRemoteState(ctx: EngineContext, remote: PushPullMessage): void {
  const { table } = ctx;
  table.verifyProtocol(remote.nodes);
  const effects: MembershipEffect[] = [];
  for (const n of remote.nodes) {
    const addr = n.addr ?? EMPTY;
    const port = n.port === 0 ? ctx.bindPort : n.port;
    if (n.state === NodeState.Alive && table.isStaleAlive(n.name, addr, port, n.incarnation)) {
      continue;
    }
    const record: PushNodeRecord = {
      name: n.name,
      addr,
      port,
      meta: n.meta ?? EMPTY,
      incarnation: n.incarnation,
      state: n.state,
      vsn: n.vsn ?? EMPTY,
    };
    for (const e of table.mergeState([record])) effects.push(e);
  }
  ctx.apply(effects);
  if (remote.userState.length > 0) {
    ctx.delegate.mergeRemoteState(remote.userState, remote.header.join);
  }
}
