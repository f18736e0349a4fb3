/**
 * Joining and staying joined (§7.4 and memberlist issues #222, wesher#11): retry the configured
 * seeds with jittered exponential backoff until one answers, then keep checking — whenever a
 * seed is not a live member, push/pull with it again, so partitioned halves and restarted
 * clusters merge back. Also remembers recently failed members (as Serf's reconnect does) so a
 * cluster joined without seeds heals too. Internal.
 *
 * @module
 */

import type { Address } from "../transport/transport.ts";
import type { Random } from "../util/random.ts";
import { ipToBytes, sameIp } from "./_ip.ts";
import { isDeadOrLeft, type Member } from "./node_types.ts";

/** Backoff of join retries. */
export interface RetryPolicy {
  /** First retry delay, ms. @default 1000 */
  initialDelayMs?: number;
  /** Longest delay, and the period of the seed check once joined, ms. @default 30000 */
  maxDelayMs?: number;
}

/** Delay before retry number `attempt` (0-based): doubling, capped, jittered ±20 %. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: Random): number {
  const initial = policy.initialDelayMs ?? 1000;
  const max = policy.maxDelayMs ?? 30_000;
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.8 + 0.4 * random.next()));
}

/** Whether `seed` is our own address (so we never join ourselves). */
export function isSelf(seed: Address, self: { addr: Uint8Array; port: number }): boolean {
  const bytes = ipToBytes(seed.host);
  return bytes !== undefined && seed.port === self.port && sameIp(bytes, self.addr);
}

/**
 * The seeds to contact now: those no live member (other than us) answers for. A seed given by
 * host name cannot be matched to a member; it counts as missing only when no other member is
 * alive.
 */
export function missingSeeds(
  seeds: readonly Address[],
  members: readonly Member[],
  localName: string,
): Address[] {
  const live = members.filter((m) => m.name !== localName && !isDeadOrLeft(m));
  return seeds.filter((seed) => {
    const bytes = ipToBytes(seed.host);
    if (bytes === undefined) return live.length === 0;
    return !live.some((m) => m.port === seed.port && sameIp(m.addr, bytes));
  });
}

/** A member that failed (not left), remembered for reconnect attempts. */
export interface FailedMember {
  /** Where it was. */
  address: Address;
  /** When we marked it dead, epoch ms. */
  at: number;
}

/** Failed members by name, oldest first, bounded. */
export class FailedMembers {
  readonly #max: number;
  readonly #byName = new Map<string, FailedMember>();

  /** @param max most members remembered (the oldest are forgotten first) */
  constructor(max = 1024) {
    this.#max = max;
  }

  /** Number remembered. */
  get size(): number {
    return this.#byName.size;
  }

  /** Remembers `name` as failed at `address`. */
  add(name: string, address: Address, at: number): void {
    this.#byName.delete(name);
    this.#byName.set(name, { address, at });
    if (this.#byName.size > this.#max) {
      this.#byName.delete(this.#byName.keys().next().value!);
    }
  }

  /** Forgets `name` (it came back, or left for good). */
  delete(name: string): void {
    this.#byName.delete(name);
  }

  /** Forgets members failed before `cutoff`. */
  expire(cutoff: number): void {
    for (const [name, f] of this.#byName) if (f.at < cutoff) this.#byName.delete(name);
  }

  /** A random remembered member. */
  pick(random: Random): FailedMember | undefined {
    const all = [...this.#byName.values()];
    return all.length === 0 ? undefined : all[Math.floor(random.next() * all.length)];
  }
}
