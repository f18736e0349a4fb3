/**
 * The Deno permissions a node needs for its config, as `deno run` flags: what the `run:tls` and
 * `run:strict` tasks grant (their launcher, `scripts/sandbox.ts`, computes them from the same
 * env vars and flags the node reads, then starts the node with exactly these). One source of
 * truth, so a flag instead of an env var grants the same, and a setting added to the table is
 * granted with it.
 *
 * @module
 */

import { CONFIG_ENV_VARS } from "./options.ts";
import { parsePeerEntry } from "./peers.ts";
import { ConfigError, type NodeConfig } from "./schema.ts";

/**
 * `open`: any host and port (nodes learn their peers' addresses by gossip). `strict`: only this
 * node's two ports (on any IPv4 host, and on its bind address), the gossip addresses of
 * `peers` (for `dns:<name>:<port>`, that port on any IPv4 host, and the `DNS_SERVER`), and the
 * HTTP addresses of `peerHttp`.
 */
export type NetworkGrant = "open" | "strict";

/** The gossip port of a peer given without one (memberlist's default). */
const DEFAULT_PEER_PORT = 7946;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** `host:port` as `--allow-net` spells it (IPv6 in brackets), the port defaulted. */
function netEntry(address: string, defaultPort: number): string {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracketed) return `[${bracketed[1]}]:${bracketed[2] ?? defaultPort}`;
  const colons = address.split(":").length - 1;
  if (colons === 1) return address;
  return colons === 0 ? `${address}:${defaultPort}` : `[${address}]:${defaultPort}`;
}

/** The `--allow-net` entry of the edge's origin (`ORIGIN`), its scheme's port by default. */
function originEntry(origin: string): string {
  const url = new URL(origin);
  return netEntry(url.host, url.protocol === "https:" ? 443 : 80);
}

/**
 * The hosts and ports a node may listen on and connect to under the `strict` grant: its own
 * ports on every IPv4 host (`0.0.0.0/0`, the usual deployment with the same ports on every
 * host) and on its bind address (the edge port too when set), then each peer's gossip address,
 * each `peerHttp` address and the edge's origin.
 * Throws a {@link ConfigError} on a port 0, which names no port to grant.
 */
export function strictNetwork(config: NodeConfig): string[] {
  const ports: [string, number][] = [["PORT", config.gossipPort], ["HTTP_PORT", config.httpPort]];
  if (config.edgePort !== undefined) ports.push(["EDGE_PORT", config.edgePort]);
  for (const [name, port] of ports) {
    if (port === 0) {
      throw new ConfigError(
        `Invalid ${name}=0: run:strict grants fixed ports only: expected 1..65535`,
      );
    }
  }
  const own = ports.map(([, port]) => port);
  return [
    ...new Set([
      ...own.map((port) => `0.0.0.0/0:${port}`),
      // An IPv4 bind address is in 0.0.0.0/0 already.
      ...(IPV4.test(config.bindAddr) ? [] : own.map((port) => netEntry(config.bindAddr, port))),
      ...config.peers.flatMap((peer) => peerGrant(peer, config)),
      ...config.peerHttp.map((peer) => netEntry(peer, config.httpPort)),
      ...(config.origin === undefined ? [] : [originEntry(config.origin)]),
    ]),
  ];
}

/**
 * What a `peers` entry needs under the strict grant: its address, or for `dns:<name>:<port>` the
 * port on any IPv4 host plus the DNS server. `dns+srv:` names ports only its records know, and
 * the system resolver's address is not in the config: both are refused with a
 * {@link ConfigError} saying what to do instead.
 */
function peerGrant(peer: string, config: NodeConfig): string[] {
  const entry = parsePeerEntry(peer);
  if (entry?.kind === "srv") {
    throw new ConfigError(
      `Invalid PEERS entry ${peer}: run:strict cannot grant the ports SRV records name: ` +
        "use dns:<name>:<port>, or deno task run",
    );
  }
  if (entry?.kind !== "dns") return [netEntry(peer, DEFAULT_PEER_PORT)];
  if (config.dnsServer === undefined) {
    throw new ConfigError(
      `Invalid PEERS entry ${peer} without DNS_SERVER: run:strict grants only the DNS server ` +
        "it is given: set DNS_SERVER (e.g. the nameserver of /etc/resolv.conf), or use deno task run",
    );
  }
  return [`0.0.0.0/0:${entry.port}`, config.dnsServer];
}

/**
 * The `deno run` permission flags for a node with `config`: no prompt, the network by `grant`,
 * the host name (default node name), the settings' env vars, and read access to exactly the
 * TLS files it names.
 */
export function nodePermissions(config: NodeConfig, grant: NetworkGrant): string[] {
  const files = [config.tlsCert, config.tlsKey, config.tlsCa].filter((f) => f !== undefined);
  return [
    "--no-prompt",
    grant === "open" ? "--allow-net" : `--allow-net=${strictNetwork(config).join(",")}`,
    "--allow-sys=hostname",
    `--allow-env=${CONFIG_ENV_VARS.join(",")}`,
    ...(files.length > 0 ? [`--allow-read=${files.join(",")}`] : []),
  ];
}
