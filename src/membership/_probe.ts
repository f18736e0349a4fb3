/**
 * One probe of the failure detector (§8.2), as memberlist's `probeNode` runs it: a direct ping
 * (with the "buddy" suspect message when the target is already suspect), up to `probeTimeout`
 * for the ack; then `indirectChecks` helpers ping it for us (nacks requested from PMax ≥ 4
 * helpers) while a TCP fallback ping runs in parallel (PMax ≥ 3); everything ends with the
 * probe interval, scaled by the local health score. Lifeguard's awareness deltas: −1 after a
 * successful probe, and after a failed one +1 per missing nack (or +1 with no nack-capable
 * helper). A failed probe makes us suspect the target. Internal.
 *
 * @module
 */

import type { EngineContext } from "./_context.ts";
import { addressOf } from "./_packet_io.ts";
import { deferred } from "./_timers.ts";
import { tcpPing } from "./_streams.ts";
import { encodeMessage, MessageType, type PingMessage } from "./codec/mod.ts";
import { type Member, NodeState } from "./node_types.ts";

/** How a probe ended. */
export type ProbeOutcome = "ack" | "indirect-ack" | "tcp" | "failed" | "skipped";

/** Probes `target` once; resolves when the probe is over. Never rejects. */
export async function probeNode(ctx: EngineContext, target: Member): Promise<ProbeOutcome> {
  const to = addressOf(target);
  if (!to) return "skipped";
  const interval = ctx.awareness.scaleTimeout(ctx.config.probeInterval);
  const ping: PingMessage = {
    seqNo: ctx.nextSeqNo(),
    node: target.name,
    sourceAddr: ctx.self.addr,
    sourcePort: ctx.self.port,
    sourceNode: ctx.name,
  };
  const deadline = ctx.clock.now() + interval;
  const acked = deferred<boolean>();
  let nacks = 0;
  ctx.acks.register(ping.seqNo, {
    onAck: () => acked.resolve(true),
    onNack: () => nacks++,
    onTimeout: () => acked.resolve(false),
  }, interval);
  ctx.stats.probes++;

  const pingBytes = encodeMessage(MessageType.ping, ping);
  let sent: boolean;
  if (target.state === NodeState.Alive) {
    sent = await ctx.io.send(to, pingBytes, target);
  } else {
    // Buddy system: tell a suspect directly that it is suspected, so it can refute at once.
    const suspect = encodeMessage(MessageType.suspect, {
      incarnation: target.incarnation,
      node: target.name,
      from: ctx.name,
    });
    sent = await ctx.io.sendRaw(to, [pingBytes, suspect], target);
  }
  // A failed send is a remote failure for memberlist: straight to the indirect phase.
  if (sent && await ctx.timers.race(acked.promise, ctx.config.probeTimeout, false)) {
    return finish(ctx, -1, "ack");
  }
  if (ctx.closed) return "skipped";

  ctx.stats.indirectProbes++;
  const expectedNacks = sendIndirectPings(ctx, target, ping.seqNo);
  let fallback: Promise<boolean> = Promise.resolve(false);
  if (!ctx.config.disableTcpPings && target.vsn[1] >= 3) {
    ctx.stats.tcpPings++;
    fallback = tcpPing(ctx, to, ping, deadline).catch((error) => {
      ctx.log.debug("Fallback TCP ping failed", { member: target.name, error });
      return false;
    });
  }
  // The ack handler lives until the end of the (scaled) probe interval.
  if (await acked.promise) return finish(ctx, -1, "indirect-ack");
  if (await fallback) {
    ctx.stats.tcpPingSuccesses++;
    ctx.log.warn("UDP probes failed but TCP reached the node; network may be misconfigured", {
      member: target.name,
    });
    return finish(ctx, -1, "tcp");
  }
  if (ctx.closed) return "skipped";
  // Missing nacks mean the helpers did not hear back either — or that we are the slow one.
  const delta = expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1;
  finish(ctx, delta, "failed");
  ctx.stats.probeFailures++;
  ctx.log.info("Suspect member: no acks received", { member: target.name });
  ctx.apply(ctx.table.suspectNode({
    incarnation: target.incarnation,
    node: target.name,
    from: ctx.name,
  }));
  return "failed";
}

function sendIndirectPings(ctx: EngineContext, target: Member, seqNo: number): number {
  const helpers = ctx.table.indirectProbeHelpers(ctx.config.indirectChecks, target.name);
  let expectedNacks = 0;
  for (const helper of helpers) {
    const to = addressOf(helper);
    if (!to) continue;
    // Only helpers that understand protocol 4 send nacks.
    const nack = helper.vsn[1] >= 4;
    if (nack) expectedNacks++;
    const req = encodeMessage(MessageType.indirectPing, {
      seqNo,
      target: target.addr,
      port: target.port,
      node: target.name,
      nack,
      sourceAddr: ctx.self.addr,
      sourcePort: ctx.self.port,
      sourceNode: ctx.name,
    });
    void ctx.io.send(to, req, helper);
  }
  return expectedNacks;
}

function finish(ctx: EngineContext, delta: number, outcome: ProbeOutcome): ProbeOutcome {
  if (!ctx.closed) ctx.awareness.applyDelta(delta);
  return outcome;
}
