/**
 * Test support for the API edge's in-process tests (`src/http/app_test.ts`, `handler_test.ts`): a real
 * {@link CacheNode} started without servers on virtual time (so TTLs and versions are exact), and
 * a service that wraps one to record or fail its writes. Not exported from `mod.ts`.
 *
 * @module
 */

import { CacheNode } from "../src/node/cache_node.ts";
import type { NodeConfig } from "../src/config/mod.ts";
import type { CacheService, IncrOptions, SetOptions, WriteOptions } from "../src/service/mod.ts";
import { VirtualClock } from "../src/util/clock.ts";

/** A started test node and its clock; disposing it closes the node. */
export interface TestNode extends AsyncDisposable {
  /** The node, named `test-node`. */
  node: CacheNode;
  /** Its time, moved only by `advance`. */
  clock: VirtualClock;
}

/** Starts a node with no HTTP server and no cluster, on a {@link VirtualClock} at its default. */
export async function startTestNode(config: Partial<NodeConfig> = {}): Promise<TestNode> {
  const clock = new VirtualClock();
  const node = new CacheNode({ nodeName: "test-node", ...config }, { clock });
  await node.start({ http: false, cluster: false });
  return { node, clock, [Symbol.asyncDispose]: () => node.close() };
}

/** One write a {@link spyService} saw: the method, key and options. */
export interface SeenWrite {
  /** `set`, `delete` or `incr`. */
  op: "set" | "delete" | "incr";
  /** The key written. */
  key: string;
  /** The options the API edge passed. */
  options: SetOptions | WriteOptions | IncrOptions | undefined;
}

/**
 * `inner` with every write recorded in `writes`; when `fail` is given, writes reject with it
 * (after being recorded) instead of reaching `inner`.
 */
export function spyService(
  inner: CacheService,
  fail?: unknown,
): { service: CacheService; writes: SeenWrite[] } {
  const writes: SeenWrite[] = [];
  const service: CacheService = {
    limits: inner.limits,
    now: () => inner.now(),
    get: (key) => inner.get(key),
    set: (key, value, options) => {
      writes.push({ op: "set", key, options });
      return fail === undefined ? inner.set(key, value, options) : Promise.reject(fail);
    },
    delete: (key, options) => {
      writes.push({ op: "delete", key, options });
      return fail === undefined ? inner.delete(key, options) : Promise.reject(fail);
    },
    incr: (key, options) => {
      writes.push({ op: "incr", key, options });
      return fail === undefined ? inner.incr(key, options) : Promise.reject(fail);
    },
    list: (options) => inner.list(options),
    purge: (request) => inner.purge(request),
    flush: () => inner.flush(),
    watch: (prefix, listener, onEnd) => inner.watch(prefix, listener, onEnd),
    members: () => inner.members(),
    stats: () => inner.stats(),
    readiness: () => inner.readiness(),
  };
  return { service, writes };
}
