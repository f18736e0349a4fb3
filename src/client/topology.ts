/**
 * The client's view of the cluster, from a node's `GET /cluster/topology`: the live members
 * with their URLs and every bucket's owners, so a key's request can go straight to a node that
 * holds it. The bucket of a key is the node's own (`hashLane1(key) & (buckets - 1)`, the store's
 * digest bucket) and the owner table is the node's own rendezvous placement, sent as it is rather
 * than recomputed here: the client then agrees with the node by construction, not by a second
 * implementation that could drift.
 *
 * @module
 */

import { decodeUint16Base64 } from "../util/base64.ts";
import { hashLane1 } from "../util/hash.ts";

/** A member as the client reaches it. */
export interface ClientMember {
  /** Member name (what `X-Served-By` names). */
  name: string;
  /** Base URL of its HTTP API, without a trailing slash. */
  url: string;
}

/** A parsed topology; immutable. */
export class Topology {
  /** Copies per key; 0 = every node holds every key. */
  readonly replicas: number;
  /** Live members, sorted by name. */
  readonly members: readonly ClientMember[];
  readonly #mask: number;
  readonly #perBucket: number;
  readonly #owners: Uint16Array;

  /**
   * Parses a `/cluster/topology` document; member URLs take `protocol` (`"http:"` or
   * `"https:"`, the seed's). Throws a `TypeError` naming the field when the document is not one.
   */
  constructor(doc: unknown, protocol: string) {
    const d = doc as Record<string, unknown>;
    const bad = (what: string): never => {
      throw new TypeError(`Invalid topology: ${what}`);
    };
    if (typeof d !== "object" || d === null) bad("not an object");
    const { replicas, buckets, perBucket, members, owners } = d;
    if (!Number.isInteger(replicas) || (replicas as number) < 0) bad("replicas");
    if (!Number.isInteger(buckets) || (buckets as number) < 1) bad("buckets");
    if (((buckets as number) & ((buckets as number) - 1)) !== 0) bad("buckets not a power of 2");
    if (!Number.isInteger(perBucket) || (perBucket as number) < 1) bad("perBucket");
    if (!Array.isArray(members) || members.length === 0) bad("members");
    if (typeof owners !== "string") bad("owners");
    this.replicas = replicas as number;
    this.members = (members as Record<string, unknown>[]).map((m) => {
      if (typeof m?.name !== "string" || typeof m.host !== "string") bad("member");
      if (!Number.isInteger(m.httpPort) || (m.httpPort as number) <= 0) bad("member httpPort");
      return { name: m.name as string, url: memberUrl(protocol, m.host as string, m.httpPort) };
    });
    this.#mask = (buckets as number) - 1;
    this.#perBucket = perBucket as number;
    try {
      this.#owners = decodeUint16Base64(owners as string);
    } catch (err) {
      throw new TypeError(`Invalid topology: owners: ${(err as Error).message}`);
    }
    if (this.#owners.length !== (buckets as number) * this.#perBucket) bad("owners length");
    if (this.#owners.some((i) => i >= this.members.length)) bad("owner index");
  }

  /** Whether a key lives on N owners only (partitioned mode). */
  get partitioned(): boolean {
    return this.replicas > 0;
  }

  /** The bucket of `key`, as the nodes compute it. */
  bucketOf(key: string): number {
    return hashLane1(key) & this.#mask;
  }

  /**
   * The owners of `key`'s bucket, best first: its N holders in partitioned mode, its primary
   * (where conditional writes and counters are decided) in full replication.
   */
  ownersOf(key: string): ClientMember[] {
    const base = this.bucketOf(key) * this.#perBucket;
    const out = new Array<ClientMember>(this.#perBucket);
    for (let i = 0; i < this.#perBucket; i++) out[i] = this.members[this.#owners[base + i]];
    return out;
  }
}

/** The base URL of an HTTP API at `host:port` (IPv6 literals bracketed). */
export function memberUrl(protocol: string, host: string, port: unknown): string {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `${protocol}//${h}:${port}`;
}
