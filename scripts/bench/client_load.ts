/**
 * The load generator of `deno task bench client` (a child process, pinned to its own core by the
 * parent): GETs of the loaded keys through one {@link CacheClient} for a fixed time, `routing`
 * `owners` (each key to an owner) or `fixed` (always the first node). Prints one JSON line:
 * `{"gets": n, "ms": t, "errors": e}`.
 *
 * Usage: `deno run --allow-net scripts/bench/client_load.ts <owners|fixed> <node url> <keys>
 * <seconds> <concurrency>`
 *
 * @module
 */

import { CacheClient } from "../../client.ts";

const [routing, url, keysText, secondsText, concurrencyText] = Deno.args;
if (routing !== "owners" && routing !== "fixed") {
  console.error(`Invalid routing ${JSON.stringify(routing)}: expected owners or fixed`);
  Deno.exit(2);
}
const keys = Number(keysText), seconds = Number(secondsText), concurrency = Number(concurrencyText);
const client = new CacheClient({ nodes: [url], routing });
await client.refresh();
// Warm-up: connections to every node the run will use.
for (let i = 0; i < Math.min(keys, 200); i++) await client.get(`bench-${i}`);
let gets = 0, errors = 0;
const started = performance.now();
const end = started + seconds * 1000;
await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
  for (let i = w; performance.now() < end; i += concurrency) {
    try {
      if ((await client.get(`bench-${i % keys}`)) === undefined) errors++;
      gets++;
    } catch {
      errors++;
    }
  }
}));
const ms = performance.now() - started;
await client.close();
console.log(JSON.stringify({ gets, ms, errors }));
