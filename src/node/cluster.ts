/**
 * The node's membership in a cluster: binds the gossip transport (UDP + TCP on `PORT`), runs
 * the memberlist engine with the configured seeds, publishes `{"http_port": N}` as node metadata
 * (as the earlier Go service's nodes did), and presents members to the HTTP layer. It is the
 * only place where the cache node touches membership; membership never sees the cache.
 *
 * @module
 */

import { type NodeConfig, parsePeerEntry } from "../config/mod.ts";
import type { MemberView } from "../service/mod.ts";
import {
  type Keyring,
  keyringEncryption,
  Memberlist,
  type MembershipConfig,
  type MembershipDelegate,
  type MembershipEvents,
  type MemberSnapshot,
} from "../membership/mod.ts";
import type { PeerAddress } from "../replication/mod.ts";
import { DenoTransport } from "../transport/mod.ts";
import { type Address, parseAddress } from "../transport/transport.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { denoResolver, type DnsEntry, type DnsResolver, PeerDiscovery } from "./discovery.ts";

/** How long a graceful leave waits for its broadcast to spread before shutting down, ms. */
export const LEAVE_TIMEOUT_MS = 3_000;

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/** Options of {@link Cluster.start}. */
export interface ClusterOptions {
  /** The node's config (name, ports, addresses, seeds). */
  config: NodeConfig;
  /** The gossip timings and flags (the bound port replaces its `bindPort`). */
  membership: MembershipConfig;
  /** The gossip keyring; `undefined` leaves gossip unencrypted. */
  keyring: Keyring | undefined;
  /** The HTTP port actually bound, published in the node metadata. */
  httpPort: number;
  /** Time source. */
  clock: Clock;
  /** Logger for membership events. */
  logger: Logger;
  /** Extra application hooks (replication plugs in here). */
  delegate?: MembershipDelegate;
  /** A member became alive or changed (with its HTTP address from the metadata). */
  onPeerUp?(peer: PeerAddress): void;
  /** A member died or left. */
  onPeerDown?(name: string): void;
  /** How the DNS entries of `peers` are resolved. @default Deno.resolveDns via `dnsServer` */
  resolver?: DnsResolver;
}

/** The membership side of a running node. */
export class Cluster {
  readonly #memberlist: Memberlist;
  readonly #seeds: Address[];
  readonly #discovery: PeerDiscovery | undefined;

  private constructor(memberlist: Memberlist, seeds: Address[], discovery?: PeerDiscovery) {
    this.#memberlist = memberlist;
    this.#seeds = seeds;
    this.#discovery = discovery;
  }

  /** Binds the gossip port, starts the engine and begins joining the seeds in the background. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const { config, logger } = options;
    const advertiseHost = config.advertiseAddr ?? config.bindAddr;
    if (WILDCARDS.has(advertiseHost)) {
      throw new Error(
        `Cannot start gossip: BIND_ADDR=${config.bindAddr} is a wildcard, so ADVERTISE_ADDR must name the address peers reach this node at`,
      );
    }
    const log = logger.child({ component: "membership" });
    const transport = DenoTransport.listen({
      hostname: config.bindAddr,
      port: config.gossipPort,
      clock: options.clock,
      logger: (level, message, error) => log[level](message, error ? { error } : undefined),
    });
    const advertise = { host: advertiseHost, port: transport.localAddress.port };
    const entries = config.peers.map((p) => parsePeerEntry(p) ?? { kind: "address", address: p });
    const seeds = entries.flatMap((e) =>
      e.kind === "address" ? [parseAddress(e.address, 7946)] : []
    );
    const dnsEntries = entries.filter((e): e is DnsEntry => e.kind !== "address");
    const meta = new TextEncoder().encode(JSON.stringify({ http_port: options.httpPort }));
    const events: MembershipEvents = {
      onJoin: (m) => {
        log.info("member joined", { member: m.name, addr: addressOf(m) });
        options.onPeerUp?.(peerOf(m));
      },
      onLeave: (m) => {
        log.info(`member ${m.state}`, { member: m.name, addr: addressOf(m) });
        options.onPeerDown?.(m.name);
      },
      onUpdate: (m) => {
        log.info("member updated", { member: m.name });
        options.onPeerUp?.(peerOf(m));
      },
    };
    const membershipConfig = { ...options.membership, bindPort: transport.localAddress.port };
    const keyring = options.keyring;
    const memberlist = new Memberlist({
      name: config.nodeName,
      transport,
      advertise,
      config: membershipConfig,
      encryption: keyring &&
        keyringEncryption(keyring, { protocolVersion: membershipConfig.protocolVersion }),
      clock: options.clock,
      logger: log,
      seeds,
      events,
      delegate: { ...options.delegate, nodeMeta: () => meta },
    });
    try {
      await memberlist.start();
    } catch (err) {
      await transport.close();
      throw err;
    }
    const discovery = dnsEntries.length === 0 ? undefined : new PeerDiscovery({
      entries: dnsEntries,
      resolver: options.resolver ?? denoResolver(config.dnsServer),
      refreshMs: config.peersRefreshMs,
      clock: options.clock,
      log: logger.child({ component: "discovery" }),
      isMember: (address) => memberAt(memberlist, address),
      join: (addresses) => memberlist.join(addresses),
      recordTypes: recordTypesFor(advertiseHost),
    });
    discovery?.start();
    return new Cluster(memberlist, seeds, discovery);
  }

  /** The gossip port actually bound. */
  get gossipPort(): number {
    return this.#memberlist.address.port;
  }

  /** The engine, for counters and user messages. */
  get memberlist(): Memberlist {
    return this.#memberlist;
  }

  /** Protocol counters plus members by state and the local health score. */
  stats(): Record<string, unknown> {
    const byState: Record<string, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const m of this.#memberlist.allMembers()) byState[m.state]++;
    return {
      ...this.#memberlist.stats,
      members: byState,
      healthScore: this.#memberlist.healthScore(),
    };
  }

  /** Every member known (alive, suspect, dead, left), this node first. */
  members(): MemberView[] {
    const self = this.#memberlist.localMember();
    const others = this.#memberlist.allMembers().filter((m) => m.name !== self.name);
    return [self, ...others].map(toMemberView);
  }

  /**
   * Ready when no seeds are configured, or once some other member is alive (at least one seed
   * answered a join, or another node joined us), or when every seed is this node itself.
   */
  readiness(): { ready: boolean; reason?: string } {
    const discovered = this.#discovery?.addresses;
    if (this.#discovery && discovered === undefined && this.#seeds.length === 0) {
      if (this.#othersAlive()) return { ready: true };
      return { ready: false, reason: "no peers resolved by DNS yet" };
    }
    const seeds = [...this.#seeds, ...(discovered ?? [])];
    if (seeds.length === 0) return { ready: true };
    const self = this.#memberlist.localMember();
    if (this.#othersAlive()) return { ready: true };
    const onlySelf = seeds.every((s) =>
      s.port === self.address.port && (s.host === self.address.host || s.host === "localhost")
    );
    return onlySelf ? { ready: true } : { ready: false, reason: "not joined to any seed yet" };
  }

  #othersAlive(): boolean {
    const self = this.#memberlist.localMember();
    return this.#memberlist.members().some((m) => m.name !== self.name && m.state === "alive");
  }

  /** Leaves gracefully (others see `left`), then closes sockets. */
  async leaveAndShutdown(): Promise<void> {
    this.#discovery?.stop();
    try {
      await this.#memberlist.leave(LEAVE_TIMEOUT_MS);
    } finally {
      await this.#memberlist.shutdown();
    }
  }
}

/** The address records a node advertising `host` can use: its own family, or both for a name. */
function recordTypesFor(host: string): ("A" | "AAAA")[] {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return ["A"];
  return host.includes(":") ? ["AAAA"] : ["A", "AAAA"];
}

/** Whether this node or a live member listens at `address`. */
function memberAt(memberlist: Memberlist, address: Address): boolean {
  const at = (m: { address: Address }) =>
    m.address.port === address.port && m.address.host === address.host;
  return at(memberlist.localMember()) ||
    memberlist.members().some((m) => m.state === "alive" && at(m));
}

function addressOf(m: MemberSnapshot): string {
  return `${m.address.host}:${m.address.port}`;
}

function parseMeta(meta: Uint8Array): unknown {
  if (meta.byteLength === 0) return {};
  const text = new TextDecoder().decode(meta);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function httpPortOf(meta: unknown): number {
  return typeof meta === "object" && meta !== null &&
      typeof (meta as { http_port?: unknown }).http_port === "number"
    ? (meta as { http_port: number }).http_port
    : 0;
}

/** Where a member's replication endpoints are (HTTP port 0 when its metadata has none). */
function peerOf(m: MemberSnapshot): PeerAddress {
  return { name: m.name, host: m.address.host, httpPort: httpPortOf(parseMeta(m.meta)) };
}

function toMemberView(m: MemberSnapshot): MemberView {
  const meta = parseMeta(m.meta);
  const httpPort = httpPortOf(meta);
  return {
    name: m.name,
    addr: m.address.host,
    port: m.address.port,
    httpPort,
    state: m.state,
    incarnation: m.incarnation,
    meta,
  };
}
