/**
 * Validation of the store's options and of incoming records, with errors that name the field,
 * the bad value and what is allowed.
 *
 * @module
 */

import { systemClock } from "../util/clock.ts";
import type { StoreRecord, TtlStoreOptions } from "./types.ts";

/** Options with every default filled in. */
export type StoreSettings = Required<TtlStoreOptions>;

/** Fills in defaults and validates; throws a `RangeError` naming a bad option. */
export function resolveSettings(options: TtlStoreOptions): StoreSettings {
  const evictionPolicy = options.evictionPolicy ?? "sieve";
  if (evictionPolicy !== "sieve" && evictionPolicy !== "lru") {
    throw new RangeError(
      `Cannot create TtlStore: evictionPolicy must be "sieve" or "lru": received "${evictionPolicy}"`,
    );
  }
  const digestBuckets = checkInt("digestBuckets", options.digestBuckets ?? 1024, 1, 65536);
  if ((digestBuckets & (digestBuckets - 1)) !== 0) {
    throw new RangeError(
      `Cannot create TtlStore: digestBuckets must be a power of two: received ${digestBuckets}`,
    );
  }
  return {
    clock: options.clock ?? systemClock,
    maxBytes: checkInt("maxBytes", options.maxBytes ?? 0, 0),
    evictionPolicy,
    tombstoneTtlMs: checkInt("tombstoneTtlMs", options.tombstoneTtlMs ?? 600_000, 0),
    digestBuckets,
    sweepIntervalMs: checkInt("sweepIntervalMs", options.sweepIntervalMs ?? 100, 1),
    sweepSlotsPerTick: checkInt("sweepSlotsPerTick", options.sweepSlotsPerTick ?? 20_000, 1),
    sweepMaxReclaimsPerTick: checkInt(
      "sweepMaxReclaimsPerTick",
      options.sweepMaxReclaimsPerTick ?? 20_000,
      1,
    ),
    initialCapacity: checkInt("initialCapacity", options.initialCapacity ?? 1024, 0),
    hashSeed: checkInt("hashSeed", options.hashSeed ?? randomSeed(), 0, 0xffffffff),
  };
}

function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

function checkInt(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot create TtlStore: ${name} must be an integer in ${min}..${max}: received ${value}`,
    );
  }
  return value;
}

/** Throws a `TypeError` naming the first malformed field of `record`. */
export function checkRecord(key: string, record: StoreRecord): void {
  if (typeof key !== "string") invalid(key, "key must be a string", typeof key);
  const v = record.value;
  if (v !== null && typeof v !== "string" && !(v instanceof Uint8Array)) {
    invalid(key, "value must be a string, a Uint8Array or null", typeof v);
  }
  if (!Number.isFinite(record.expiresAt) || record.expiresAt < 0) {
    invalid(key, "expiresAt must be a finite number >= 0", record.expiresAt);
  }
  const version = record.version;
  if (!Number.isSafeInteger(version?.hlc) || version.hlc < 0) {
    invalid(key, "version.hlc must be a non-negative safe integer", version?.hlc);
  }
  if (typeof version.node !== "string") {
    invalid(key, "version.node must be a string", typeof version.node);
  }
}

function invalid(key: unknown, what: string, got: unknown): never {
  const shown = JSON.stringify(String(key).slice(0, 64));
  throw new TypeError(`Cannot apply record for key ${shown}: ${what}: received ${String(got)}`);
}
