/**
 * The engine's two doors to what lies outside it, below every engine part that uses them: the
 * application's delegate with defaults filled in and errors contained, and the encryption hooks a
 * keyring plugs in. Internal.
 *
 * @module
 */

import type { DecryptHook, EncryptHook, StreamSealer } from "./codec/mod.ts";
import type { MembershipDelegate } from "./delegate.ts";

/**
 * Hooks that plug a keyring in (AES-GCM as §4.5 describes; the keyring itself lives outside the
 * engine). With them, `gossipVerifyOutgoing` decides whether we encrypt and
 * `gossipVerifyIncoming` whether we refuse plaintext.
 */
export interface MembershipEncryption {
  /** Seals a datagram; the AAD is the label bytes. */
  encryptPacket: EncryptHook;
  /** Opens a datagram; rejects when no key authenticates it. */
  decryptPacket: DecryptHook;
  /** Seals stream messages into `[0x0A][len][sealed]` frames. */
  streamSealer: StreamSealer;
  /** Opens stream frames; rejects when no key authenticates them. */
  decryptStream: DecryptHook;
  /** Bytes encryption adds to a datagram (29 for version 1, 45 for 0), for packet budgets. */
  packetOverhead: number;
}

/** {@link MembershipDelegate} with defaults filled in and errors contained. */
export interface SafeDelegate {
  nodeMeta(limit: number): Uint8Array;
  notifyMessage(payload: Uint8Array): void;
  getBroadcasts(overhead: number, limit: number): Uint8Array[];
  localState(join: boolean): Uint8Array;
  mergeRemoteState(state: Uint8Array, join: boolean): void;
}

/** Wraps `delegate` so that missing hooks do nothing and throwing hooks are contained. */
export function safeDelegate(
  delegate: MembershipDelegate | undefined,
  onError: (hook: string, error: unknown) => void,
): SafeDelegate {
  const d = delegate ?? {};
  const empty = new Uint8Array(0);
  function guard<T>(hook: string, fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (error) {
      onError(hook, error);
      return fallback;
    }
  }
  return {
    nodeMeta: (limit) => guard("nodeMeta", () => d.nodeMeta?.(limit) ?? empty, empty),
    notifyMessage: (payload) => guard("notifyMessage", () => d.notifyMessage?.(payload), undefined),
    getBroadcasts: (overhead, limit) =>
      guard("getBroadcasts", () => d.getBroadcasts?.(overhead, limit) ?? [], []),
    localState: (join) => guard("localState", () => d.localState?.(join) ?? empty, empty),
    mergeRemoteState: (state, join) =>
      guard("mergeRemoteState", () => d.mergeRemoteState?.(state, join), undefined),
  };
}
