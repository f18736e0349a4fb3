/**
 * The node's membership in a cluster: binds the gossip transport (UDP + TCP on `PORT`), runs
 * the memberlist engine with the configured seeds, publishes `{"http_port": N}` as node metadata
 * (as the earlier Go service's nodes did), and presents members to the HTTP layer. It is the
 * only place where the cache node touches membership; membership never sees the cache.
 *
 * @module
 */

import type { NodeConfig } from "../config/mod.ts";
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
}

/** The membership side of a running node. */
export class Cluster {
  readonly #memberlist: Memberlist;
  readonly #seeds: Address[];

  private constructor(memberlist: Memberlist, seeds: Address[]) {
    this.#memberlist = memberlist;
    this.#seeds = seeds;
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
    const seeds = config.peers.map((p) => parseAddress(p, 7946));
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
    return new Cluster(memberlist, seeds);
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
    if (this.#seeds.length === 0) return { ready: true };
    const self = this.#memberlist.localMember();
    if (this.#memberlist.members().some((m) => m.name !== self.name && m.state === "alive")) {
      return { ready: true };
    }
    const onlySelf = this.#seeds.every((s) =>
      s.port === self.address.port && (s.host === self.address.host || s.host === "localhost")
    );
    return onlySelf ? { ready: true } : { ready: false, reason: "not joined to any seed yet" };
  }

  /** Leaves gracefully (others see `left`), then closes sockets. */
  async leaveAndShutdown(): Promise<void> {
    try {
      await this.#memberlist.leave(LEAVE_TIMEOUT_MS);
    } finally {
      await this.#memberlist.shutdown();
    }
  }
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
