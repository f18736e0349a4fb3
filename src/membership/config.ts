/**
 * Timings and sizes of the SWIM + Lifeguard membership protocol, after memberlist's `Config`,
 * with its three presets (`DefaultLocalConfig`, `DefaultLANConfig`, `DefaultWANConfig`) and a
 * validator. Durations are milliseconds. Node names, bind/advertise addresses, keys and CIDR
 * filters live with the node's own config, not here.
 *
 * @module
 */

/** Lowest memberlist protocol version this implementation speaks. */
export const PROTOCOL_VERSION_MIN = 1;
/** Highest memberlist protocol version this implementation understands (advertised as pMax). */
export const PROTOCOL_VERSION_MAX = 5;
/** Largest node metadata (`Meta`) memberlist accepts, in bytes. */
export const META_MAX_SIZE = 512;

/** Protocol timings and sizes; every duration is in milliseconds. */
export interface MembershipConfig {
  /**
   * Port for both UDP and TCP gossip. `0` asks the OS for a free port. Also substituted into
   * alive messages that carry port 0 (protocol versions < 2).
   * @default 7946
   */
  bindPort: number;
  /**
   * Port to advertise to peers when it differs from the bound one (NAT, port mapping).
   * `undefined` advertises the bound port.
   * @default undefined
   */
  advertisePort?: number;
  /**
   * Protocol version we *speak* (pCur), 1..5. Version 2 is what every modern Go node speaks;
   * higher features are negotiated from the peer's pMax, so raising this buys nothing and
   * breaks old peers.
   * @default 2
   */
  protocolVersion: number;
  /**
   * Delegate (application) protocol version we speak (dCur), 0..255. Must be compatible with
   * every member's `[delegateProtocolMin, delegateProtocolMax]` or push/pull merges fail.
   * @default 0
   */
  delegateProtocolVersion: number;
  /** Lowest delegate protocol version we understand (dMin). @default 0 */
  delegateProtocolMin: number;
  /** Highest delegate protocol version we understand (dMax). @default 0 */
  delegateProtocolMax: number;
  /**
   * Deadline for opening a stream and for each read/write on it (push/pull, TCP fallback ping,
   * reliable user messages). Too short fails full-state syncs of big clusters on slow links;
   * too long lets one hung peer hold a push/pull slot.
   * @default 10_000
   */
  tcpTimeout: number;
  /**
   * Members asked to ping a target indirectly after a direct probe fails. More helpers make a
   * false suspicion (a lossy path to just us) less likely, at the cost of bandwidth.
   * @default 3
   */
  indirectChecks: number;
  /**
   * Each broadcast is sent `retransmitMult × ceil(log10(n + 1))` times. Higher converges more
   * surely under loss, but fills packets and can starve application broadcasts.
   * @default 4
   */
  retransmitMult: number;
  /**
   * Minimum suspicion timeout is `suspicionMult × max(1, log10(n)) × probeInterval`. Higher
   * gives a falsely suspected member more time to refute, but slows failure detection.
   * Also sets the confirmations Lifeguard expects: `k = suspicionMult − 2`.
   * @default 4
   */
  suspicionMult: number;
  /**
   * The suspicion timeout starts at `suspicionMaxTimeoutMult ×` the minimum and shrinks towards
   * the minimum as independent confirmations arrive. Large keeps an isolated (unhealthy) node
   * from declaring others dead quickly; small bounds detection time without confirmations.
   * @default 6
   */
  suspicionMaxTimeoutMult: number;
  /**
   * Period of the full-state TCP exchange with one random member (anti-entropy), scaled up
   * above 32 members. `0` disables periodic push/pull (joins still use it). Lower repairs
   * missed gossip faster but each exchange costs O(n) bytes.
   * @default 30_000
   */
  pushPullInterval: number;
  /**
   * Period of the probe loop (one member per tick, round-robin). Lower detects failures sooner
   * at the cost of bandwidth. Scaled by the local health multiplier (×1..×awarenessMaxMultiplier).
   * @default 1_000
   */
  probeInterval: number;
  /**
   * How long to wait for a direct ack before asking `indirectChecks` helpers; should be about
   * the 99th percentile RTT. Not scaled by local health. Must be below `probeInterval`, which
   * bounds the indirect phase.
   * @default 500
   */
  probeTimeout: number;
  /**
   * Disables the TCP fallback ping run alongside indirect pings. The fallback rescues members
   * reachable by TCP only (UDP blocked), at the price of a connection per failed probe.
   * @default false
   */
  disableTcpPings: boolean;
  /**
   * Lifeguard local-health ceiling: the score lives in `[0, max − 1]` and the probe interval is
   * multiplied by `score + 1`. Higher lets an overloaded node back off further before it
   * accuses others; `1` disables the mechanism.
   * @default 8
   */
  awarenessMaxMultiplier: number;
  /**
   * Period of the gossip loop that sends queued broadcasts not piggybacked on probes. `0`
   * disables it. Lower spreads updates faster at the cost of packets.
   * @default 200
   */
  gossipInterval: number;
  /**
   * Random members gossiped to per `gossipInterval`. More spreads faster, costs bandwidth.
   * `0` disables the gossip loop.
   * @default 3
   */
  gossipNodes: number;
  /**
   * How long after a member's death we keep gossiping to it (so it can learn it was declared
   * dead and refute) and keep it in the table before reaping. Also the time before a dead
   * name can be reused by a different address when `deadNodeReclaimTime` is 0.
   * @default 30_000
   */
  gossipToTheDeadTime: number;
  /**
   * With a keyring installed: reject unencrypted incoming gossip. Turn off during a
   * plaintext→encrypted migration only.
   * @default true
   */
  gossipVerifyIncoming: boolean;
  /**
   * With a keyring installed: encrypt outgoing gossip. Turn off during a plaintext→encrypted
   * migration only.
   * @default true
   */
  gossipVerifyOutgoing: boolean;
  /**
   * LZW-compress outgoing packets (when smaller) and streams. Saves bandwidth for some CPU;
   * inbound compressed messages are always accepted.
   * @default true
   */
  enableCompression: boolean;
  /**
   * Cluster label prefixed to every packet and stream (at most 255 bytes of UTF-8). Separates
   * clusters sharing a network; peers older than memberlist 0.3.0 cannot read labels.
   * @default ""
   */
  label: string;
  /**
   * Depth of the queue of received alive/suspect/dead/user messages awaiting processing;
   * overflow drops messages. Deeper absorbs bursts, shallower bounds memory and staleness.
   * @default 1024
   */
  handoffQueueDepth: number;
  /**
   * Largest packet we build (piggybacked gossip included), in bytes. 1400 fits a 1500-byte
   * Ethernet MTU after IP/UDP headers; larger (jumbo frames) packs more gossip per packet but
   * fragments on ordinary paths.
   * @default 1400
   */
  udpBufferSize: number;
  /**
   * After a member has been dead this long, its name may be taken by a new address/port.
   * `0` disables reclaiming: a restarted member with a new address is refused ("conflicting
   * address") until the old entry is reaped or marked left.
   * @default 0
   */
  deadNodeReclaimTime: number;
  /**
   * Require the target's name in pings (drop pings addressed by address only).
   * @default false
   */
  requireNodeNames: boolean;
  /**
   * Period of the broadcast-queue depth check (metrics and warnings).
   * @default 30_000
   */
  queueCheckInterval: number;
  /**
   * Most members the table tracks, ourselves and not yet reaped dead or left members included.
   * Alive messages and push/pull records about new names beyond it are dropped and counted
   * (`membersRefused`); known members are never evicted for a newcomer, and reaped dead members
   * make room again. Bounds the memory and the per-probe-round cost that anyone able to reach
   * the gossip port could otherwise grow without limit (without a gossip key, anyone can
   * announce members). Too low refuses real members of a large cluster: the default leaves a
   * 10,000-member cluster room for joiners and unreaped dead members (what a full table costs:
   * see docs/benchmarks.md, "Scale reached and what limits it").
   * @default 100_000
   */
  maxMembers: number;
}

/** Names of the presets in {@link MEMBERSHIP_PROFILES}. */
export type MembershipProfile = "local" | "lan" | "wan";

/**
 * memberlist's `DefaultLANConfig`: a single datacenter network. The default.
 *
 * @param overrides fields to replace in the preset
 */
export function lanConfig(overrides: Partial<MembershipConfig> = {}): MembershipConfig {
  return {
    bindPort: 7946,
    protocolVersion: 2,
    delegateProtocolVersion: 0,
    delegateProtocolMin: 0,
    delegateProtocolMax: 0,
    tcpTimeout: 10_000,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    pushPullInterval: 30_000,
    probeInterval: 1_000,
    probeTimeout: 500,
    disableTcpPings: false,
    awarenessMaxMultiplier: 8,
    gossipInterval: 200,
    gossipNodes: 3,
    gossipToTheDeadTime: 30_000,
    gossipVerifyIncoming: true,
    gossipVerifyOutgoing: true,
    enableCompression: true,
    label: "",
    handoffQueueDepth: 1024,
    udpBufferSize: 1400,
    deadNodeReclaimTime: 0,
    requireNodeNames: false,
    queueCheckInterval: 30_000,
    maxMembers: 100_000,
    ...overrides,
  };
}

/**
 * memberlist's `DefaultWANConfig`: members across the internet or multiple datacenters; slower
 * probes, longer timeouts, fewer gossip rounds to more members.
 *
 * @param overrides fields to replace in the preset
 */
export function wanConfig(overrides: Partial<MembershipConfig> = {}): MembershipConfig {
  return lanConfig({
    tcpTimeout: 30_000,
    suspicionMult: 6,
    pushPullInterval: 60_000,
    probeTimeout: 3_000,
    probeInterval: 5_000,
    gossipNodes: 4,
    gossipInterval: 500,
    gossipToTheDeadTime: 60_000,
    ...overrides,
  });
}

/**
 * memberlist's `DefaultLocalConfig`: one host or a very fast local network; quicker timeouts,
 * fewer retransmits and helpers.
 *
 * @param overrides fields to replace in the preset
 */
export function localConfig(overrides: Partial<MembershipConfig> = {}): MembershipConfig {
  return lanConfig({
    tcpTimeout: 1_000,
    indirectChecks: 1,
    retransmitMult: 2,
    suspicionMult: 3,
    pushPullInterval: 15_000,
    probeTimeout: 200,
    probeInterval: 1_000,
    gossipInterval: 100,
    gossipToTheDeadTime: 15_000,
    ...overrides,
  });
}

/** The presets by name; each call returns a fresh object. */
export const MEMBERSHIP_PROFILES: Readonly<
  Record<MembershipProfile, (overrides?: Partial<MembershipConfig>) => MembershipConfig>
> = Object.freeze({ local: localConfig, lan: lanConfig, wan: wanConfig });

/**
 * Our 6-byte version vector `[pMin, pMax, pCur, dMin, dMax, dCur]` as sent in alive messages
 * and push/pull records.
 */
export function buildVsn(config: MembershipConfig): Uint8Array {
  return Uint8Array.of(
    PROTOCOL_VERSION_MIN,
    PROTOCOL_VERSION_MAX,
    config.protocolVersion,
    config.delegateProtocolMin,
    config.delegateProtocolMax,
    config.delegateProtocolVersion,
  );
}

/**
 * Checks every field; throws a {@link MembershipConfigError} (a `RangeError`) naming the first
 * bad field, its value and what is allowed. Returns the same config for chaining.
 */
export function validateMembershipConfig(c: MembershipConfig): MembershipConfig {
  integer(c, "bindPort", 0, 65_535);
  if (c.advertisePort !== undefined) integer(c, "advertisePort", 1, 65_535);
  integer(c, "protocolVersion", PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX);
  integer(c, "delegateProtocolMin", 0, 255);
  integer(c, "delegateProtocolMax", c.delegateProtocolMin, 255);
  integer(c, "delegateProtocolVersion", c.delegateProtocolMin, c.delegateProtocolMax);
  duration(c, "tcpTimeout", false);
  integer(c, "indirectChecks", 0, 1_000);
  integer(c, "retransmitMult", 1, 1_000);
  integer(c, "suspicionMult", 1, 1_000);
  integer(c, "suspicionMaxTimeoutMult", 1, 1_000);
  duration(c, "pushPullInterval", true);
  duration(c, "probeInterval", false);
  duration(c, "probeTimeout", false);
  if (c.probeTimeout >= c.probeInterval) {
    fail("probeTimeout", c.probeTimeout, `a duration below probeInterval (${c.probeInterval} ms)`, [
      "probeInterval",
    ]);
  }
  boolean(c, "disableTcpPings");
  integer(c, "awarenessMaxMultiplier", 1, 1_000);
  duration(c, "gossipInterval", true);
  integer(c, "gossipNodes", 0, 1_000);
  duration(c, "gossipToTheDeadTime", true);
  boolean(c, "gossipVerifyIncoming");
  boolean(c, "gossipVerifyOutgoing");
  boolean(c, "enableCompression");
  if (typeof c.label !== "string" || new TextEncoder().encode(c.label).length > 255) {
    fail("label", c.label, "a string of at most 255 UTF-8 bytes");
  }
  integer(c, "handoffQueueDepth", 1, 1_048_576);
  // 512 leaves room for a ping plus some gossip; 65_507 is the largest IPv4 UDP payload.
  integer(c, "udpBufferSize", 512, 65_507);
  duration(c, "deadNodeReclaimTime", true);
  boolean(c, "requireNodeNames");
  duration(c, "queueCheckInterval", false);
  integer(c, "maxMembers", 2, 1_000_000);
  return c;
}

type NumberField = {
  [K in keyof MembershipConfig]-?: MembershipConfig[K] extends number | undefined ? K : never;
}[keyof MembershipConfig];
type BooleanField = {
  [K in keyof MembershipConfig]-?: MembershipConfig[K] extends boolean ? K : never;
}[keyof MembershipConfig];

function integer(c: MembershipConfig, field: NumberField, min: number, max: number): void {
  const v = c[field];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    fail(field, v, `an integer in [${min}, ${max}]`);
  }
}

function duration(c: MembershipConfig, field: NumberField, zeroAllowed: boolean): void {
  const v = c[field];
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (!zeroAllowed && v === 0)) {
    fail(field, v, `a finite duration in ms, ${zeroAllowed ? ">= 0 (0 disables)" : "> 0"}`);
  }
}

function boolean(c: MembershipConfig, field: BooleanField): void {
  if (typeof c[field] !== "boolean") fail(field, c[field], "a boolean");
}

/** A field of a {@link MembershipConfig} out of its range (or out of line with another). */
export class MembershipConfigError extends RangeError {
  /**
   * @param message names the field, its value and what is allowed
   * @param fields the field to blame, then any it was compared with
   */
  constructor(message: string, readonly fields: readonly string[]) {
    super(message);
  }
}

function fail(field: string, value: unknown, allowed: string, related: string[] = []): never {
  throw new MembershipConfigError(
    `Invalid membership config: ${field} must be ${allowed}: received ${
      typeof value === "string" ? JSON.stringify(value) : String(value)
    }`,
    [field, ...related],
  );
}
