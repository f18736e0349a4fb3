/**
 * DNS discovery of peers: the `dns:<name>:<port>` and `dns+srv:<name>` entries of `PEERS`,
 * resolved with `Deno.resolveDns` (through `DNS_SERVER` when set) at start and again every
 * `PEERS_REFRESH`; the addresses no live member has are joined (memberlist push/pull). So a
 * StatefulSet behind a headless Service, or a Consul service, needs no list of addresses: a
 * member added to the records later is joined without a restart. A failed resolution is logged
 * and retried sooner (1 s, doubling up to the refresh period), never fatal: the node starts
 * alone and joins once the name resolves.
 *
 * @module
 */

import type { PeerEntry } from "../config/mod.ts";
import type { Address } from "../transport/transport.ts";
import type { Clock, TimerId } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";

/** The DNS lookups discovery makes (`Deno.resolveDns` or a fake). */
export interface DnsResolver {
  /** Addresses of `name` (A or AAAA); rejects when there are none. */
  addresses(name: string, type: "A" | "AAAA"): Promise<string[]>;
  /** SRV records of `name`; rejects when there are none. */
  srv(name: string): Promise<{ target: string; port: number }[]>;
}

/** `Deno.resolveDns`, asking `server` (`ip:port`) when given, else the system resolver. */
export function denoResolver(server?: string): DnsResolver {
  const options = server === undefined ? undefined : { nameServer: nameServerOf(server) };
  return {
    addresses: (name, type) => Deno.resolveDns(name, type, options),
    srv: (name) => Deno.resolveDns(name, "SRV", options),
  };
}

function nameServerOf(server: string): { ipAddr: string; port: number } {
  const colon = server.lastIndexOf(":");
  return {
    ipAddr: server.slice(0, colon).replace(/^\[(.*)\]$/, "$1"),
    port: Number(server.slice(colon + 1)),
  };
}

/** The DNS entries of `PEERS`. */
export type DnsEntry = Exclude<PeerEntry, { kind: "address" }>;

/** Options of {@link PeerDiscovery}. */
export interface PeerDiscoveryOptions {
  /** The names to resolve. */
  entries: readonly DnsEntry[];
  /** How names are resolved. */
  resolver: DnsResolver;
  /** Period of re-resolution, ms. */
  refreshMs: number;
  /** Timers. */
  clock: Clock;
  /** Where failures and discoveries are logged. */
  log: Logger;
  /** Whether a live member (this node included) is at `address` already. */
  isMember(address: Address): boolean;
  /** Joins `addresses`; resolves with how many answered. */
  join(addresses: Address[]): Promise<number>;
  /**
   * The address records asked for: only `A` for a node that advertises an IPv4 address (it
   * could not reach IPv6 peers, and joining them would fail every round). @default A and AAAA
   */
  recordTypes?: readonly ("A" | "AAAA")[];
}

/** Resolves the DNS entries of `PEERS` now and then, and joins what they name; see the module doc. */
export class PeerDiscovery {
  readonly #o: PeerDiscoveryOptions;
  #timer: TimerId | undefined;
  #failures = 0;
  #stopped = true;
  #addresses: Address[] | undefined;

  /** A stopped discovery. */
  constructor(options: PeerDiscoveryOptions) {
    this.#o = options;
  }

  /** The addresses of the last successful resolution (`undefined` before one). */
  get addresses(): readonly Address[] | undefined {
    return this.#addresses;
  }

  /** Resolves at once, then every `refreshMs` (sooner after a failure). */
  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops the timer; a resolution under way is not joined. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number): void {
    this.#timer = this.#o.clock.setTimeout(() => void this.refresh(), delayMs);
  }

  /**
   * One round (the timer's work; public for tests): resolve every entry, join the addresses no
   * live member has, schedule the next round.
   */
  async refresh(): Promise<void> {
    this.#timer = undefined;
    const { log, refreshMs } = this.#o;
    let ok = false;
    try {
      const addresses = await this.resolve();
      if (this.#stopped) return;
      this.#addresses = addresses;
      ok = true;
      const fresh = addresses.filter((a) => !this.#o.isMember(a));
      if (fresh.length > 0) {
        const answered = await this.#o.join(fresh);
        log.info("joined discovered peers", {
          addresses: fresh.map((a) => `${a.host}:${a.port}`).join(","),
          answered,
        });
      }
    } catch (err) {
      log.warn("Cannot discover peers by DNS", { err });
    }
    if (this.#stopped) return;
    this.#failures = ok ? 0 : this.#failures + 1;
    this.#schedule(ok ? refreshMs : Math.min(refreshMs, 1000 * 2 ** (this.#failures - 1)));
  }

  /**
   * The addresses every entry names now, deduplicated. Rejects when an entry resolves to
   * nothing (the error names it), so a half-answered round is retried soon.
   */
  async resolve(): Promise<Address[]> {
    const found = new Map<string, Address>();
    for (const entry of this.#o.entries) {
      const targets = entry.kind === "dns"
        ? [{ target: entry.name, port: entry.port }]
        : await this.#o.resolver.srv(entry.name).catch((err) => {
          throw new Error(`Cannot resolve SRV ${entry.name}`, { cause: err });
        });
      for (const { target, port } of targets) {
        for (const host of await this.#hostAddresses(target)) {
          found.set(`${host}|${port}`, { host, port });
        }
      }
    }
    return [...found.values()];
  }

  async #hostAddresses(name: string): Promise<string[]> {
    const types = this.#o.recordTypes ?? ["A", "AAAA"];
    const answers = await Promise.allSettled(
      types.map((type) => this.#o.resolver.addresses(name, type)),
    );
    const hosts = answers.flatMap((a) => a.status === "fulfilled" ? a.value : []);
    if (hosts.length > 0) return hosts;
    const failed = answers.find((a) => a.status === "rejected");
    throw new Error(`Cannot resolve ${name}: no ${types.join(" or ")} records`, {
      cause: failed?.status === "rejected" ? failed.reason : undefined,
    });
  }
}
