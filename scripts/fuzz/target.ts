/**
 * What every fuzz target shares: its budget (inputs, wall time, deadline per input), its report
 * (inputs tried, outcomes, crashes and hangs with the input in hex), and the deadline race.
 *
 * @module
 */

/** Limits of one fuzz target run: stops at whichever comes first. */
export interface FuzzBudget {
  /** Most inputs. */
  count: number;
  /** Wall-clock budget, ms. */
  ms: number;
  /** Deadline of one input, ms: an input not settled by then is a hang. */
  inputDeadlineMs: number;
}

/** One input that broke the contract. */
export interface FuzzFailure {
  /** Index of the input in its run (reproducible from the seed). */
  index: number;
  /** The input, hex (cut). */
  input: string;
  /** What happened. */
  error: string;
}

/** What one target did. */
export interface TargetReport {
  /** Target name. */
  target: string;
  /** Inputs tried. */
  tried: number;
  /** Outcomes by kind (decoded, or the drop reason). */
  outcomes: Record<string, number>;
  /** Inputs that threw where the contract says they must not, or broke a result invariant. */
  crashes: FuzzFailure[];
  /** Inputs not settled within the deadline. */
  hangs: FuzzFailure[];
  /** Wall time, ms. */
  ms: number;
  /** Target-specific figures. */
  notes?: Record<string, unknown>;
}

/** What {@link withDeadline} resolves to when the deadline wins. */
export const HANG: unique symbol = Symbol("hang");

/** Races `work` against `ms`; resolves `HANG` when the deadline wins. */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof HANG> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof HANG>((resolve) => {
    timer = setTimeout(() => resolve(HANG), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** `true` while the budget allows another input. */
export function within(budget: FuzzBudget, tried: number, started: number): boolean {
  return tried < budget.count && performance.now() - started < budget.ms;
}

export function count(outcomes: Record<string, number>, key: string): void {
  outcomes[key] = (outcomes[key] ?? 0) + 1;
}
