/**
 * The chaos run's model of what the cluster must hold: every write and delete a client sent,
 * with its interval (sent → answered, on the driver's clock) and what the answer proves, and the
 * judgement of a key's final value on one node against that history.
 *
 * Nodes keep the write with the highest version (hybrid logical clock). An operation that was
 * answered `200` with `X-Write-Acks: all` was held by every live replica, so any operation sent
 * after that answer gets a higher version and replaces it. An operation that failed (`504`,
 * connection error, timeout) may or may not have been applied, so it may or may not win. Hence
 * the final state of a key may come from operation O (or be the initial "absent") if and only if
 * no acknowledged operation started after O ended: an acknowledged operation that strictly
 * follows O in real time must have replaced it. (A request the client gave up on may be applied
 * later still, by a node that was stopped meanwhile: such an operation never "ended".) A final state that no such O explains means an
 * acknowledged write or delete was lost (or an overwritten value came back).
 *
 * @module
 */

/** What the client learnt from an operation's answer. */
export type Outcome =
  /** `200` with every live replica's acknowledgement. */
  | "acked"
  /** `504`, a connection error or a timeout: it may or may not have been applied. */
  | "unknown"
  /** A `4xx`: refused before anything was stored. */
  | "refused";

/** One write or delete a chaos client sent. */
export interface Operation {
  /** Unique id (also part of a written value). */
  id: number;
  /** The key. */
  key: string;
  /** `put` stores `value`; `delete` removes the key. */
  kind: "put" | "delete";
  /** The value of a `put`. */
  value?: string;
  /** TTL of a `put`, ms (absent = no expiry). */
  ttlMs?: number;
  /** When the request was sent (driver clock, ms). */
  start: number;
  /** When the answer (or failure) came (driver clock, ms). */
  end: number;
  /** What the answer proves. */
  outcome: Outcome;
  /** The HTTP status, or the error's name. */
  status: number | string;
  /**
   * The client gave up waiting (timeout) while the request may still sit unread at a stopped
   * node, which would apply it when resumed: then no later operation is sure to follow it.
   */
  mayApplyLater?: boolean;
}

/** A key's state as read from one node: its value, or undefined when absent. */
export interface Observation {
  /** The value read, or undefined on 404. */
  value: string | undefined;
  /** When the GET was sent (driver clock, ms). */
  start: number;
  /** When it was answered (driver clock, ms). */
  end: number;
}

/** Why a final state is wrong. */
export interface Violation {
  /** The key. */
  key: string;
  /** What the node held at the end ("absent" when nothing). */
  observed: string;
  /**
   * The acknowledged operation that the observed state contradicts (it was lost); undefined when
   * the observed value was never written at all.
   */
  lost?: Operation;
}

/**
 * Judges a key's final state on one node against its history: undefined if some operation (or
 * the initial absence) explains it, else the violation naming the acknowledged operation that
 * should have replaced it. `marginMs` widens the expiry window of TTL writes (the node computes
 * the expiry when it applies the write, somewhere inside the operation's interval).
 */
export function judgeKey(
  key: string,
  operations: readonly Operation[],
  observed: Observation,
  marginMs = 50,
): Violation | undefined {
  const candidates = operations.filter((op) => op.outcome !== "refused");
  const acked = candidates.filter((op) => op.outcome === "acked");
  // The acknowledged operation that started last: it follows everything that ended before it.
  const endOf = (op: Operation) => (op.mayApplyLater ? Infinity : op.end);
  const supersededBy = (end: number) => {
    let latest: Operation | undefined;
    for (const a of acked) if (a.start > end && (!latest || a.start > latest.start)) latest = a;
    return latest;
  };
  const explains = (op: Operation): boolean => {
    if (op.kind === "delete") return observed.value === undefined;
    if (op.ttlMs === undefined) return observed.value === op.value;
    // Applied somewhere in [start, end], so it expires somewhere in [start, end] + ttl.
    const mayBePresent = observed.start < endOf(op) + op.ttlMs + marginMs;
    const mayBeExpired = observed.end > op.start + op.ttlMs - marginMs;
    return observed.value === op.value
      ? mayBePresent
      : observed.value === undefined && mayBeExpired;
  };
  const explained = (observed.value === undefined && acked.length === 0) ||
    candidates.some((op) => explains(op) && supersededBy(endOf(op)) === undefined);
  if (explained) return undefined;
  // Name the acknowledged operation that replaced whatever produced the observed state.
  const producers = candidates.filter(explains);
  const lost = producers.length > 0
    ? supersededBy(Math.max(...producers.map(endOf)))
    : acked.reduce<Operation | undefined>((a, b) => (a && a.start >= b.start ? a : b), undefined);
  return { key, observed: observed.value ?? "absent", ...(lost ? { lost } : {}) };
}

/** Operations grouped by key. */
export class History {
  readonly #byKey = new Map<string, Operation[]>();
  #nextId = 1;

  /** A fresh operation id. */
  nextId(): number {
    return this.#nextId++;
  }

  /** Records a finished operation. */
  add(op: Operation): void {
    const list = this.#byKey.get(op.key);
    if (list) list.push(op);
    else this.#byKey.set(op.key, [op]);
  }

  /** The keys operated on. */
  keys(): string[] {
    return [...this.#byKey.keys()];
  }

  /** The operations on `key`. */
  of(key: string): readonly Operation[] {
    return this.#byKey.get(key) ?? [];
  }

  /** Counts of operations by kind and outcome. */
  counts(): Record<`${Operation["kind"]}_${Outcome}`, number> {
    const counts = {
      put_acked: 0,
      put_unknown: 0,
      put_refused: 0,
      delete_acked: 0,
      delete_unknown: 0,
      delete_refused: 0,
    };
    for (const ops of this.#byKey.values()) {
      for (const op of ops) counts[`${op.kind}_${op.outcome}`]++;
    }
    return counts;
  }
}
