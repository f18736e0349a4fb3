/**
 * The host side's small helpers: headers to and from the protocol's flat lists, plain-text
 * answers given on a worker's behalf, the permission check before workers are spawned, and the
 * memory figure the watchdog reads.
 *
 * @module
 */

import type { WorkerSettings } from "./settings.ts";

/** `headers` as a flat `[name, value, ...]` list. */
export const flatHeaders = (headers: Headers): string[] => {
  const out: string[] = [];
  for (const [name, value] of headers) out.push(name, value);
  return out;
};

/** A flat `[name, value, ...]` list as `Headers`. */
export const headersOf = (list: string[]): Headers => {
  const headers = new Headers();
  for (let i = 0; i < list.length; i += 2) headers.append(list[i], list[i + 1]);
  return headers;
};

/** A plain-text answer given on the worker's behalf. */
export const plain = (status: number, text: string) =>
  new Response(text + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8" } });

/**
 * Resident memory not held by the node's own isolate (its heap and the buffers it owns): what
 * the workers grow when they allocate, while the store filling up does not count.
 */
export function outsideNodeHeap(): number {
  const { rss, heapTotal, external } = Deno.memoryUsage();
  return rss - heapTotal - external;
}

/** The net permission of the workers: their hosts, and their listen address in direct mode. */
export function netGrant(settings: WorkerSettings): string[] {
  const { allowNet, listen } = settings;
  return listen ? [...allowNet, `${listen.hostname}:${listen.port}`] : allowNet;
}

/**
 * Throws a clear error when the node may not read the worker's folder, reach its hosts or
 * listen where its workers would.
 */
export function checkGrantable(settings: WorkerSettings): void {
  const { dir } = settings;
  if (Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted") {
    throw new Error(
      `Cannot start workers: this process may not read ${dir} (the run and start tasks grant ` +
        "./workers and ./examples; run:tls and run:strict no worker folder)",
    );
  }
  if (
    settings.processes &&
    Deno.permissions.querySync({ name: "run", command: "deno" }).state !== "granted"
  ) {
    throw new Error(
      "Cannot start workers: WORKER_MODE=direct or WORKER_ISOLATION=process runs each worker " +
        "as a deno process, and this process may not start deno (the run:processes task grants " +
        "--allow-run=deno)",
    );
  }
  for (const host of netGrant(settings)) {
    if (Deno.permissions.querySync({ name: "net", host }).state !== "granted") {
      throw new Error(`Cannot start workers: this process may not reach ${host}`);
    }
  }
}
