/**
 * The host's side of a worker's KV bindings: one call message → one `CacheService` call, on the
 * node itself (reads from its memory, writes replicated as any write; no HTTP hop). Each binding
 * is its own namespace: its keys live under `kv:<BINDING>:` in the cluster (`bindingPrefix`),
 * and a listing shows them without it, in the Workers KV result shape.
 *
 * @module
 */

import type { CacheService, EntryMetadata } from "../service/mod.ts";
import { bindingPrefix } from "./settings.ts";

/** A KV call from a worker: `[tag, call, binding, op, key, a, b]` (see `protocol.ts`). */
export type KvCall = readonly [number, number, string, string, string, unknown, unknown];

/** Workers KV's list result. */
export interface KvListResult {
  /** Keys of the page, without the binding's prefix; `expiration` in epoch seconds. */
  keys: { name: string; expiration?: number; metadata?: EntryMetadata }[];
  /** Whether no key follows. */
  list_complete: boolean;
  /** Where the next page starts (when not complete). */
  cursor?: string;
}

/**
 * Answers one KV call of a worker whose bindings are `bindings`; rejects with the error the
 * worker's promise gets (a binding it was not given, a bad key, a value that is not a counter).
 */
export async function answerKv(
  service: CacheService,
  bindings: ReadonlySet<string>,
  message: KvCall,
): Promise<unknown> {
  return await answerKvNow(service, bindings, message);
}

/**
 * {@link answerKv} without a promise for reads (`get`, `getWithMetadata`), which the node answers
 * from memory at once: the pool sends their answers in the same frame as what it holds. Throws
 * (reads) or rejects (writes) with the error the worker's promise gets.
 */
export function answerKvNow(
  service: CacheService,
  bindings: ReadonlySet<string>,
  message: KvCall | readonly unknown[],
): unknown {
  const [, , binding, op, key] = message as KvCall;
  if (!bindings.has(binding)) throw new TypeError(`No KV binding ${binding}`);
  const prefix = bindingPrefix(binding);
  switch (op) {
    case "get":
      return service.get(prefix + key)?.value ?? null;
    case "getm": {
      const entry = service.get(prefix + key);
      return entry ? [entry.value, entry.metadata ?? null] : [null, null];
    }
    default:
      return write(service, prefix, message as KvCall);
  }
}

async function write(service: CacheService, prefix: string, message: KvCall): Promise<unknown> {
  const [, , , op, key, a, b] = message;
  switch (op) {
    case "put": {
      const [ttlMs, metadata] = b as [number, EntryMetadata | null];
      await service.set(prefix + key, a as string | Uint8Array, {
        ttlMs,
        ...(metadata !== null ? { metadata } : {}),
      });
      return null;
    }
    case "del":
      await service.delete(prefix + key);
      return null;
    case "incr":
      return await service.incr(prefix + key, {
        by: a as number,
        ...((b as number) > 0 ? { ttlMs: b as number } : {}),
      });
    case "list": {
      const [sub, limit, cursor] = a as [string, number, string];
      const page = await service.list({
        prefix: prefix + sub,
        limit,
        ...(cursor !== "" ? { cursor } : {}),
      });
      const result: KvListResult = {
        keys: page.keys.map((k) => ({
          name: k.name.slice(prefix.length),
          ...(k.expiresAt ? { expiration: Math.floor(k.expiresAt / 1000) } : {}),
          ...(k.metadata ? { metadata: k.metadata } : {}),
        })),
        list_complete: page.complete,
      };
      if (page.cursor !== undefined) result.cursor = page.cursor;
      return result;
    }
    default:
      throw new TypeError(`Unknown KV operation ${op}`);
  }
}
