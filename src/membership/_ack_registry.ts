/**
 * Outstanding acks by sequence number, after memberlist's `ackHandlers`: a probe (or an
 * intermediary relaying an indirect probe) registers a handler for its SeqNo with a lifetime;
 * an ack runs and removes it, a nack only notifies it, expiry removes it and says so. Acks and
 * nacks for unknown or expired numbers are ignored (trap T9: indirect probes reuse the SeqNo).
 *
 * @module
 */

import type { TimerId } from "../util/clock.ts";
import type { TimerSet } from "./_timers.ts";

/** What to do when an ack, a nack or the lifetime's end arrives for one SeqNo. */
export interface AckHandler {
  /** An ack arrived (payload may be empty); the handler is removed. */
  onAck(payload: Uint8Array, receivedAt: number): void;
  /** A nack arrived (an intermediary heard nothing); the handler stays. */
  onNack?(): void;
  /** The lifetime ended with no ack; the handler is removed. */
  onTimeout?(): void;
}

interface Entry {
  handler: AckHandler;
  timer: TimerId | undefined;
}

/** SeqNo → handler, with expiry on the engine's timers. */
export class AckRegistry {
  readonly #timers: TimerSet;
  readonly #entries = new Map<number, Entry>();

  /** @param timers where lifetimes are scheduled */
  constructor(timers: TimerSet) {
    this.#timers = timers;
  }

  /** Handlers waiting. */
  get size(): number {
    return this.#entries.size;
  }

  /** Registers `handler` for `seqNo` for `lifetimeMs`, replacing any older one. */
  register(seqNo: number, handler: AckHandler, lifetimeMs: number): void {
    this.#remove(seqNo);
    const entry: Entry = { handler, timer: undefined };
    entry.timer = this.#timers.after(lifetimeMs, () => {
      if (this.#entries.get(seqNo) !== entry) return;
      this.#entries.delete(seqNo);
      handler.onTimeout?.();
    });
    this.#entries.set(seqNo, entry);
  }

  /** Delivers an ack; `false` when nobody waits for `seqNo`. */
  ack(seqNo: number, payload: Uint8Array, receivedAt: number): boolean {
    const entry = this.#entries.get(seqNo);
    if (!entry) return false;
    this.#remove(seqNo);
    entry.handler.onAck(payload, receivedAt);
    return true;
  }

  /** Delivers a nack; `false` when nobody waits for `seqNo` or the waiter takes no nacks. */
  nack(seqNo: number): boolean {
    const handler = this.#entries.get(seqNo)?.handler;
    if (!handler?.onNack) return false;
    handler.onNack();
    return true;
  }

  /** Expires every handler now (shutdown), so nobody waits on an ack that cannot come. */
  clear(): void {
    for (const [seqNo, entry] of [...this.#entries]) {
      this.#remove(seqNo);
      entry.handler.onTimeout?.();
    }
  }

  #remove(seqNo: number): void {
    const entry = this.#entries.get(seqNo);
    if (!entry) return;
    this.#timers.cancel(entry.timer);
    this.#entries.delete(seqNo);
  }
}
