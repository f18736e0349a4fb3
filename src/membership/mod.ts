/**
 * Cluster membership and failure detection: a TypeScript implementation of HashiCorp
 * memberlist (SWIM with Lifeguard's refinements), byte-compatible with Go nodes on the wire.
 *
 * - {@link Memberlist}: the engine. Give it a name, a bound {@link Transport}, a
 *   {@link MembershipConfig} ({@link lanConfig}, {@link wanConfig}, {@link localConfig}), and
 *   optionally seeds, a {@link MembershipDelegate} and {@link MembershipEvents}; `start()`,
 *   `join()`, `leave()`, `shutdown()`; read `members()`, `numMembers()`, `healthScore()`,
 *   `stats`; send user messages with `sendBestEffort`/`sendReliable`.
 * - The delegate is the only door to the application: node metadata, user messages,
 *   application broadcasts piggybacked on gossip, and a state blob exchanged on push/pull.
 * - Gossip encryption: a {@link Keyring} (memberlist-compatible AES-GCM; the first key encrypts,
 *   all decrypt, rotate with addKey/useKey/removeKey) passed as
 *   `encryption: keyringEncryption(keyring)`.
 *
 * ```ts
 * import { lanConfig, Memberlist } from "./mod.ts";
 * import { DenoTransport } from "../transport/mod.ts";
 *
 * const transport = await DenoTransport.listen({ hostname: "10.0.0.1", port: 7946 });
 * const ml = new Memberlist({
 *   name: "node-a",
 *   transport,
 *   config: lanConfig(),
 *   seeds: [{ host: "10.0.0.2", port: 7946 }],
 *   events: { onJoin: (m) => console.log("joined", m.name, m.address) },
 * });
 * await ml.start();
 * ```
 *
 * @module
 */

export {
  Memberlist,
  type MemberlistOptions,
  type MembershipEncryption,
  type RetryPolicy,
} from "./memberlist.ts";
export { Keyring, keyringEncryption, type KeyringEncryptionOptions } from "./keyring.ts";
export {
  buildVsn,
  lanConfig,
  localConfig,
  MEMBERSHIP_PROFILES,
  type MembershipConfig,
  MembershipConfigError,
  type MembershipProfile,
  META_MAX_SIZE,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
  validateMembershipConfig,
  wanConfig,
} from "./config.ts";
export type {
  MembershipDelegate,
  MembershipEvents,
  MemberSnapshot,
  MemberStateName,
} from "./delegate.ts";
export { createMembershipStats, type MembershipStats } from "./stats.ts";
export { type Broadcast, BroadcastQueue, type BroadcastQueueOptions } from "./broadcast_queue.ts";
export { pushPullScale, retransmitLimit, suspicionBounds, suspicionTimeout } from "./formulas.ts";
