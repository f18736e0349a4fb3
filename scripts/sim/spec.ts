/**
 * What one simulation run is asked to do and what it reports. A run is one child process (so
 * each has its own heap and its peak RSS means something); specs and results travel as JSON.
 *
 * @module
 */

/** Lifeguard features switched on (the config knobs that control them). */
export type LifeguardVariant =
  /** Defaults: local health (awareness ×1..×8, fed by nacks) and accelerated suspicion (max = 6 × min). */
  | "lifeguard"
  /** Both off: awarenessMaxMultiplier 1 (nacks then change nothing), suspicionMaxTimeoutMult 1. */
  | "swim"
  /** Local health only (suspicionMaxTimeoutMult 1). */
  | "lhm-only"
  /** Accelerated suspicion only (awarenessMaxMultiplier 1). */
  | "suspicion-only";

/** Network and protocol settings shared by every kind of run. */
export interface CommonSpec {
  /** Warm members. */
  n: number;
  /** Seed of every random draw. */
  seed: number;
  /** Packet loss on every link, 0..1. */
  loss: number;
  /** Which Lifeguard features are on. */
  variant: LifeguardVariant;
  /** Whether the TCP fallback ping is on (memberlist default). */
  tcpPings: boolean;
  /** One-way latency of every packet and stream chunk, ms. @default 1 */
  latencyMs?: number;
  /** Extra one-way latency, uniform in [0, jitterMs), ms. @default 1 */
  jitterMs?: number;
}

/** A warm cluster measured for bandwidth, then joins, then crashes. */
export interface ScaleSpec extends CommonSpec {
  /** Kind of run. */
  kind: "scale";
  /** Length of the quiet window measured for bandwidth, ms (0 skips it). */
  bandwidthMs: number;
  /** New members joining one after the other (0 skips the phase). */
  joins: number;
  /** Members crashed one after the other (0 skips the phase). */
  crashes: number;
}

/** A warm cluster with slow members, run for a long time, counting false deaths. */
export interface FalsePositiveSpec extends CommonSpec {
  /** Kind of run. */
  kind: "fp";
  /** Fraction of members that are slow, 0..1. */
  slowFraction: number;
  /** How late a slow member processes what it receives, ms. */
  slowDelayMs: number;
  /** Virtual time simulated, ms. */
  durationMs: number;
}

/** Replicators with every peer up, measuring how long a write takes to reach every replica. */
export interface ReplicationSpec {
  /** Kind of run. */
  kind: "replication";
  /** Replicas. */
  n: number;
  /** Seed of every random draw. */
  seed: number;
  /** `fast`: the write is published (fast path); `anti-entropy`: applied locally only. */
  mode: "fast" | "anti-entropy";
  /** Writes measured, one after the other. */
  writes: number;
  /** One-way latency of each request and answer, ms (plus up to 1 ms jitter). */
  latencyMs: number;
}

/** Any run. */
/**
 * A network partition of a warm cluster: `minority` of the members (chosen at random) are cut off
 * from the rest for `durationMs`, then the cut heals and the run waits up to `healMaxMs` for
 * every member to hold every other alive again (through the reconnect loop, refutations and
 * push/pull).
 */
export interface PartitionSpec extends CommonSpec {
  kind: "partition";
  /** Fraction of the members on the smaller side, (0, 0.5]. */
  minority: number;
  /** How long the cut lasts, ms. */
  durationMs: number;
  /** Longest wait for the cluster to merge again after the heal, ms. */
  healMaxMs: number;
}

export type RunSpec = ScaleSpec | FalsePositiveSpec | ReplicationSpec | PartitionSpec;

/** How one side of a partition saw the other side die. */
export interface SideSplit {
  /** Members of this side that held the whole other side dead before the heal. */
  complete: number;
  /** Time from the cut until the last of them did, when all did, ms. */
  t100?: number;
}

/** What a partition run measured (times in ms; `undefined`: not reached within the run). */
export interface PartitionMeasure {
  /** Members on each side. */
  sides: [number, number];
  /** Time from the cut until 50 / 99 / 100 % of the members held the whole other side dead. */
  split50?: number;
  split99?: number;
  split100?: number;
  /**
   * The same 100 % time within each side: the smaller side (`sides[0]`) and the larger one; on a
   * side where not every member got there during the cut, how many did.
   */
  splitBySide: [SideSplit, SideSplit];
  /** Members declared dead during the cut by a member of their own side (false positives). */
  sameSideDeaths: number;
  /** Time from the heal until 50 / 99 / 100 % of the members held every member alive. */
  heal50?: number;
  heal99?: number;
  heal100?: number;
  /**
   * Time from the heal until every member held every member alive (none suspect or dead), as
   * checked table by table every second; `undefined`: not within `healMaxMs`.
   */
  merged?: number;
  /** Deaths declared after the heal (members wrongly declared dead while merging). */
  deathsAfterHeal: number;
  /** Refutations after the heal (members answering that they are alive). */
  refutationsAfterHeal: number;
  /** Push/pull exchanges started after the heal (periodic ones and reconnect attempts). */
  pushPullsAfterHeal: number;
  /** Whether every member held every member alive at the end of the run. */
  mergedAtEnd: boolean;
}

/** How a join spread. Times are ms after the join call; `undefined` when never reached. */
export interface JoinMeasure {
  /** The joiner. */
  joiner: string;
  /** Observers that should learn it. */
  of: number;
  /** Observers that did, by the end of the run. */
  known: number;
  /** Time until 50 % knew. */
  t50?: number;
  /** Time until 99 % knew. */
  t99?: number;
  /** Time until all knew. */
  t100?: number;
  /** Set when the joiner's push/pull with its seed failed. */
  joinFailed?: boolean;
}

/** How a crash was detected. Times are ms after the kill; `undefined` when never reached. */
export interface CrashMeasure {
  /** The victim. */
  victim: string;
  /** Observers that should mark it dead. */
  of: number;
  /** First suspicion by anyone (the end of the first failed probe). */
  firstSuspicion?: number;
  /** First member to mark it dead. */
  firstDead?: number;
  /** 50 % of observers marked it dead. */
  dead50?: number;
  /** 99 %. */
  dead99?: number;
  /** All of them ("dead everywhere"). */
  dead100?: number;
}

/** False positives: live members marked dead (or suspected), over the whole run (zeros for replication runs). */
export interface FalsePositiveCount {
  /** Member-hours simulated (warm members × virtual hours). */
  nodeHours: number;
  /** Suspicions started about members that were not crashed. */
  falseSuspicions: number;
  /** Times a member marked a healthy (not slow, not crashed) member dead. */
  fpHealthy: number;
  /** Times a member marked a slow (not crashed) member dead. */
  fpSlow: number;
  /** Of `fpHealthy`, the deaths a member declared itself (its suspicion timer expired). */
  declaredHealthy: number;
  /** Of `fpSlow`, the deaths a member declared itself. */
  declaredSlow: number;
  /** Refutations by members. */
  refutations: number;
}

/** Traffic per member per second over a window. */
export interface Bandwidth {
  /** Window length, ms. */
  windowMs: number;
  /** UDP datagrams sent per member per second. */
  packetsPerNodeSec: number;
  /** UDP bytes sent per member per second. */
  bytesPerNodeSec: number;
  /** Stream (TCP) bytes written per member per second, push/pull included. */
  streamBytesPerNodeSec: number;
  /** Mean bytes of one push/pull (both directions), if any completed. */
  pushPullBytes?: number;
}

/** What a run reports. */
export interface RunResult {
  /** The spec it ran. */
  spec: RunSpec;
  /** Wall time of the whole child process's work, ms. */
  wallMs: number;
  /** Wall time of the warm start alone, ms. */
  warmWallMs: number;
  /** Peak RSS of the child, MiB. */
  peakRssMib: number;
  /** CPU time (user + system) of the child, ms. */
  cpuMs: number;
  /** Member records held once warm (n²). */
  records: number;
  /** Virtual time simulated, ms. */
  virtualMs: number;
  /** Steady-state traffic (scale runs with a bandwidth window). */
  bandwidth?: Bandwidth;
  /** Traffic over the join and crash phases. */
  churnBandwidth?: Bandwidth;
  /** Joins measured. */
  joins: JoinMeasure[];
  /** Crashes measured. */
  crashes: CrashMeasure[];
  /** False positives over the run. */
  falsePositives: FalsePositiveCount;
  /** Suspicion bounds the engine used at this size, ms (zeros for replication runs). */
  suspicion: { min: number; max: number; k: number };
  /** Replication runs: per write, the time until every replica held it, ms. */
  writes?: (number | undefined)[];
  /** The partition run's measures. */
  partition?: PartitionMeasure;
}
