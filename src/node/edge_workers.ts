/**
 * The node's worker listener: with `WORKER` set, the user's module runs in a `WorkerRuntime`
 * served on `EDGE_PORT` by the node's own `Deno.serve` (`WORKER_MODE=pool`) or by each worker's
 * (`WORKER_MODE=direct`: the workers listen themselves), its KV bindings calling this node, and
 * `env.ORIGIN.fetch` going to `ORIGIN`: through the node's edge cache (its cached fetch: one
 * origin request per miss cluster-wide) when the node runs one, else a plain fetch.
 *
 * @module
 */

import type { NodeConfig } from "../config/mod.ts";
import type { CacheService } from "../service/mod.ts";
import type { Logger } from "../util/log.ts";
import { listenError } from "../util/listen_error.ts";
import { type OriginFetch, resolveWorkerSettings, WorkerRuntime } from "../workers/mod.ts";

/** A running worker listener. */
export interface WorkerEdge {
  /** The runtime (stats, reload). */
  runtime: WorkerRuntime;
  /** Where `EDGE_PORT` listens. */
  addr: Deno.NetAddr;
  /** Stops the listener, then the workers (requests in flight finish). */
  close(): Promise<void>;
}

/** Sends a request to `origin`: same path, query, method, headers and body; no redirects followed. */
export function plainOriginFetch(origin: string): OriginFetch {
  return (request) => {
    const url = new URL(request.url);
    return fetch(origin + url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
    });
  };
}

/**
 * Starts the worker runtime of `config` (which has `worker` set) and its listener; `originFetch`
 * is `env.ORIGIN.fetch` (the edge cache's fetch). @default a plain fetch of `config.origin`
 */
export async function startWorkerEdge(
  config: NodeConfig,
  service: CacheService,
  logger: Logger,
  originFetch?: OriginFetch,
): Promise<WorkerEdge> {
  const settings = await resolveWorkerSettings(config);
  const origin = originFetch ?? (config.origin ? plainOriginFetch(config.origin) : undefined);
  const runtime = new WorkerRuntime({
    settings,
    service,
    logger,
    ...(origin ? { originFetch: origin } : {}),
  });
  await runtime.start();
  if (settings.listen) {
    // Direct mode: the workers listen; started means listening.
    return {
      runtime,
      addr: { transport: "tcp", ...settings.listen },
      close: () => runtime.close(),
    };
  }
  const listening = Promise.withResolvers<void>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: config.bindAddr,
      port: config.edgePort ?? 0,
      onListen: () => listening.resolve(),
      onError: (err) => {
        logger.error("worker listener failed", { err });
        return new Response("Internal error\n", { status: 500 });
      },
    }, (request) => runtime.handle(request));
  } catch (err) {
    await runtime.close();
    throw listenError("edge", config.bindAddr, config.edgePort ?? 0, err);
  }
  await listening.promise;
  return {
    runtime,
    addr: server.addr,
    close: async () => {
      await server.shutdown();
      await runtime.close();
    },
  };
}
