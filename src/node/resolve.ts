/**
 * The node's config turned into the objects the layers below use: the gossip keyring (from the
 * keys config decodes) and the membership config (the gossip preset with its overrides, by
 * membership's rules), the replication signer, and the TLS files read. A node builds each once
 * per start and hands it to the cluster, the replicator and the HTTP server. {@link loadNodeConfig} is the loader `main.ts` uses: config's loader plus
 * membership's check of the gossip preset, so a bad combination also stops the start (exit 2).
 *
 * @module
 */

import {
  type ConfigSources,
  gossipKeysOf,
  type GossipProblem,
  loadConfig,
  type NodeConfig,
} from "../config/mod.ts";
import { PeerAuth } from "../replication/mod.ts";
import type { Clock } from "../util/clock.ts";
import {
  Keyring,
  MEMBERSHIP_PROFILES,
  type MembershipConfig,
  MembershipConfigError,
  validateMembershipConfig,
} from "../membership/mod.ts";

/**
 * The gossip keyring of `config` (`SECRET_KEY` first, then `SECRET_KEYS`), or `undefined`
 * without a key. Throws a `RangeError` naming a bad key and its length, never its value.
 */
export function keyringOf(config: NodeConfig): Keyring | undefined {
  const keys = gossipKeysOf(config);
  return keys.length === 0 ? undefined : new Keyring(keys);
}

/**
 * The membership config of a node: its profile's preset, the gossip overrides, and its port.
 * Throws a `MembershipConfigError` (a `RangeError`) naming the field when the combination is
 * invalid.
 */
export function membershipConfigOf(config: NodeConfig): MembershipConfig {
  const overrides: Partial<MembershipConfig> = config.gossip;
  return validateMembershipConfig(
    MEMBERSHIP_PROFILES[config.gossipProfile]({
      ...overrides,
      bindPort: config.gossipPort,
      gossipVerifyIncoming: config.gossipVerifyIncoming,
      gossipVerifyOutgoing: config.gossipVerifyOutgoing,
      label: config.gossipLabel,
    }),
  );
}

/** Membership's verdict on the gossip preset with its overrides (config's gossip check). */
export function gossipProblemOf(config: NodeConfig): GossipProblem | undefined {
  try {
    membershipConfigOf(config);
    return undefined;
  } catch (err) {
    if (!(err instanceof MembershipConfigError)) throw err;
    return { message: err.message, fields: err.fields };
  }
}

/**
 * Reads the config from env vars and flags (flags win over env vars; `PEER` and `PEERS` are
 * merged) and checks the gossip preset with its overrides. Throws a `ConfigError` naming the
 * first bad variable or flag, the value and what is allowed.
 */
export function loadNodeConfig(sources: ConfigSources): NodeConfig {
  return loadConfig(sources, gossipProblemOf);
}

/** The PEM texts of a node's TLS settings. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** What peers' certificates are verified against: `tlsCa`, else the node's own certificate. */
  ca: string;
}

/** Reads the TLS files of `config` (undefined without TLS); rejects naming the unreadable one. */
export async function readTlsMaterial(config: NodeConfig): Promise<TlsMaterial | undefined> {
  const { tlsCert, tlsKey, tlsCa } = config;
  if (tlsCert === undefined || tlsKey === undefined) return undefined;
  const read = async (name: string, path: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch (err) {
      throw new Error(`Cannot start HTTPS: cannot read ${name} ${path}: ${(err as Error).message}`);
    }
  };
  const cert = await read("TLS_CERT", tlsCert);
  return {
    cert,
    key: await read("TLS_KEY", tlsKey),
    ca: tlsCa === undefined ? cert : await read("TLS_CA", tlsCa),
  };
}

/**
 * The replication signer of a node with a gossip key (`SECRET_KEY`/`SECRET_KEYS`), following
 * the gossip verify flags; `undefined` without a key.
 */
export async function peerAuthOf(
  config: NodeConfig,
  keyring: Keyring | undefined,
  clock: Clock,
): Promise<PeerAuth | undefined> {
  if (!keyring) return undefined;
  return await PeerAuth.fromKeys(keyring.keys(), {
    clock,
    label: config.gossipLabel,
    sign: config.gossipVerifyOutgoing,
    requireSigned: config.gossipVerifyIncoming,
  });
}
