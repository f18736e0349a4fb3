/**
 * Carrying out the member table's effects: encode and queue broadcasts, apply Lifeguard's
 * refutation penalty, keep the failed-member list for reconnects, count, log, and notify the
 * application of joins, leaves and updates (a throwing handler is contained). Internal.
 *
 * @module
 */

import type { EngineContext } from "./_context.ts";
import { addressOf } from "./_packet_io.ts";
import type { FailedMembers } from "./_seeds.ts";
import { encodeMessage, MessageType } from "./codec/mod.ts";
import { type MembershipEvents, memberSnapshot } from "./delegate.ts";
import { type GossipMessage, type Member, type MembershipEffect, NodeState } from "./node_state.ts";

/** Applies `effects` in order. */
export function applyEffects(
  ctx: EngineContext,
  effects: readonly MembershipEffect[],
  events: MembershipEvents,
  failed: FailedMembers,
): void {
  const emit = (event: keyof MembershipEvents, member: Member) => {
    const handler = events[event];
    if (!handler) return;
    try {
      handler.call(events, memberSnapshot(member));
    } catch (error) {
      ctx.stats.delegateErrors++;
      ctx.log.error("Event handler threw", { event, error });
    }
  };
  for (const e of effects) {
    switch (e.type) {
      case "broadcast":
        // A queued message lives for seconds: its own buffer, not a region of the codec's byte
        // slab (one long-lived region keeps its whole chunk from being freed).
        ctx.queue.queue({
          message: encodeGossip(e.message).slice(),
          name: e.name,
          finished: e.notify,
        });
        break;
      case "refute":
        // Being accused is a hint that we are the slow one.
        ctx.awareness.applyDelta(1);
        ctx.stats.refutations++;
        ctx.log.info("Refuting an accusation", { incarnation: e.incarnation });
        break;
      case "join":
        failed.delete(e.member.name);
        emit("onJoin", e.member);
        break;
      case "leave":
        if (e.member.state === NodeState.Dead) {
          ctx.stats.deaths++;
          const address = addressOf(e.member);
          if (address) failed.add(e.member.name, address, ctx.clock.now());
        } else failed.delete(e.member.name);
        emit("onLeave", e.member);
        break;
      case "update":
        emit("onUpdate", e.member);
        break;
      case "member-refused":
        // A flood would log a line per message: log the first refusal and every 1000th.
        if (ctx.stats.membersRefused++ % 1000 === 0) {
          ctx.log.warn("Member table full: new member dropped", {
            member: e.node,
            limit: e.limit,
            refused: ctx.stats.membersRefused,
          });
        }
        break;
      case "conflict":
        ctx.stats.conflicts++;
        ctx.log.warn("Conflicting address for a member name", { member: e.existing.name });
        break;
      case "suspicion-started":
        ctx.stats.suspicions++;
        ctx.log.debug("Suspicion started", { member: e.node, min: e.min, max: e.max, k: e.k });
        break;
      case "suspicion-expired":
        ctx.log.info("Marking member dead: suspicion timed out", {
          member: e.node,
          confirmations: e.confirmations,
        });
        break;
    }
  }
}

/** Encodes a membership broadcast as `[type][msgpack body]`. */
export function encodeGossip(message: GossipMessage): Uint8Array {
  switch (message.type) {
    case "alive":
      return encodeMessage(MessageType.alive, message.body);
    case "suspect":
      return encodeMessage(MessageType.suspect, message.body);
    case "dead":
      return encodeMessage(MessageType.dead, message.body);
  }
}
