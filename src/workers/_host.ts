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

/** Throws a clear error when the node may not read the worker's folder or reach its hosts. */
export function checkGrantable(settings: WorkerSettings): void {
  const { dir, allowNet } = settings;
  if (Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted") {
    throw new Error(
      `Cannot start workers: this process may not read ${dir} (the run and start tasks grant ` +
        "./workers and ./examples; run:tls and run:strict no worker folder)",
    );
  }
  for (const host of allowNet) {
    if (Deno.permissions.querySync({ name: "net", host }).state !== "granted") {
      throw new Error(`Cannot start workers: this process may not reach ${host}`);
    }
  }
}
