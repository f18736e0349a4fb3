/**
 * The gossip keys of a node's config (`SECRET_KEY`, `SECRET_KEYS`), decoded from base64 into
 * plain bytes: the one place they are parsed. The loader calls it to reject a bad key at start;
 * the node builds its keyring from the bytes.
 *
 * @module
 */

import type { NodeConfig } from "./schema.ts";

/** AES key sizes memberlist accepts (AES-128/192/256), in bytes. */
const KEY_SIZES: readonly number[] = [16, 24, 32];

/** A gossip key setting that cannot be used: which one and what is wrong (never the key). */
export class GossipKeyError extends RangeError {
  /**
   * @param setting the setting's name as the caller calls it (`SECRET_KEY`, `secretKeys[1]`)
   * @param problem what is wrong, e.g. `must be base64: received invalid base64`
   */
  constructor(readonly setting: string, readonly problem: string) {
    super(`Cannot build keyring: ${setting} ${problem}`);
  }
}

/** Names of the key settings in error messages. */
export interface GossipKeyNames {
  /** Name of `secretKey`. @default "secretKey" */
  secretKey?: string;
  /** Name of `secretKeys` (indexed: `name[i]`). @default "secretKeys" */
  secretKeys?: string;
}

/**
 * The gossip keys `config` gives, primary first, without duplicates; empty when it gives none
 * (an empty `secretKey` counts as none). `secretKey`, when set, comes before `secretKeys` (as
 * memberlist's `SecretKey` does with a `Keyring`). Each key is standard base64 of 16, 24 or 32
 * bytes; a bad one throws a {@link GossipKeyError} naming it and its decoded length.
 */
export function gossipKeysOf(
  config: Partial<Pick<NodeConfig, "secretKey" | "secretKeys">>,
  names: GossipKeyNames = {},
): Uint8Array[] {
  const keys: Uint8Array[] = [];
  const add = (key: Uint8Array) => {
    if (!keys.some((k) => k.length === key.length && k.every((x, i) => x === key[i]))) {
      keys.push(key);
    }
  };
  const primary = config.secretKey?.trim() ?? "";
  if (primary !== "") add(decodeKey(primary, names.secretKey ?? "secretKey"));
  (config.secretKeys ?? []).forEach((text, i) => {
    add(decodeKey(text.trim(), `${names.secretKeys ?? "secretKeys"}[${i}]`));
  });
  return keys;
}

function decodeKey(text: string, setting: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new GossipKeyError(setting, "must be base64: received invalid base64");
  }
  if (!KEY_SIZES.includes(binary.length)) {
    throw new GossipKeyError(
      setting,
      `must be base64 of 16, 24 or 32 bytes: received ${binary.length} bytes`,
    );
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
