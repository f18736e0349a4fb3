/**
 * `deno task bench`: runs the benchmarks side by side with their competitors in one run and
 * writes the results to docs/benchmarks.md (with the command and the machine).
 *
 * Usage: `deno task bench [--quick] [section...]`, sections: `http`, `memory`, `membership`,
 * `interop`, `replication`, `partitioned`, `placement`, `kv`, `client`, `workers`, `edge`
 * (default: all).
 *
 * @module
 */

import { commandLineOrExit } from "../cli_flags.ts";
import { httpBench } from "./http_bench.ts";
import { memoryBench } from "./memory_bench.ts";
import { membershipBench } from "./membership_bench.ts";
import { interopBench } from "./interop_bench.ts";
import { channelBench } from "./replication_channel_bench.ts";
import { replicationBench } from "./replication_bench.ts";
import { partitionedBench } from "./partitioned_bench.ts";
import { placementBench } from "./placement_bench.ts";
import { kvBench } from "./kv_bench.ts";
import { clientBench } from "./client_bench.ts";
import { workersBench } from "./workers_bench.ts";
import { edgeBench } from "./edge_bench.ts";

const { flags: { quick }, positionals: args } = commandLineOrExit(
  { command: "deno task bench", rest: "[section...]" },
  { quick: false },
  { positionals: true },
);
const sections = args.length > 0 ? args : [
  "http",
  "memory",
  "membership",
  "interop",
  "replication",
  "partitioned",
  "placement",
  "kv",
  "client",
  "workers",
  "edge",
];
const out: string[] = [];
const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => ""))
  .match(/model name\s*:\s*(.*)/)?.[1] ?? Deno.build.arch;

for (const section of sections) {
  console.error(`running ${section} benchmark...`);
  if (section === "http") {
    out.push("## HTTP, pinned: node vs bare Deno.serve (server core 0, wrk core 1)", "");
    out.push(...await httpBench(quick ? 2 : 5, quick ? 1 : 3), "");
    out.push(
      "Each figure is the median of alternating rounds (competitor, node, competitor, node...).",
      "The bare server returns a fixed 100-byte body (GET, HEAD) or reads the body and answers",
      "OK (PUT).",
      "",
    );
  } else if (section === "memory") {
    out.push("## Memory per entry vs Redis", "");
    out.push(...await memoryBench(quick ? 100_000 : 1_000_000), "");
  } else if (section === "membership") {
    out.push("## Membership on real processes (loopback)", "");
    out.push(...await membershipBench(quick), "");
    out.push(
      "Join: from starting the seed until every node lists every node alive (nodes start in",
      "parallel). CPU from /proc/<pid>/stat over the idle window; bytes are UDP gossip in + out.",
      "",
    );
  } else if (section === "interop") {
    out.push("## Failure detection: Deno, Go memberlist 0.2.2 and mixed clusters", "");
    out.push(...await interopBench(quick), "");
    out.push(
      "Go nodes are `testing/gopeer` (Debian's memberlist 0.2.2, `DefaultLocalConfig`);",
      "Deno nodes run `deno task run` with `GOSSIP_PROFILE=local`. A Go observer counts the",
      "victim dead when memberlist stops listing it; a Deno observer when /cluster/members says dead.",
      "",
    );
  } else if (section === "replication") {
    out.push("## Replication channel: HTTP between API ports vs memberlist reliable messages", "");
    out.push(...await channelBench(), "");
    out.push("## Replication on real processes (loopback)", "");
    out.push(...await replicationBench(quick), "");
    out.push(
      "Visible: from sending a PUT to one node until a tight GET loop on another node sees it",
      "(one probe at a time, ~40/s); the client floor is the same probe on the node that took the",
      "write (alternating with the other), i.e. what the client adds without replication. Node lag: origin write time → applied on a replica (ms clock, recent",
      "4,096 per node; p50 = median over nodes, p99 = worst node). Throughput: one wrk per node",
      "(1 thread, 16 connections) at once, all on the same 2 cores as the nodes. Join: 3 nodes",
      "loaded through /internal/replicate, then a 4th started with PEER; 100-byte values.",
      "",
    );
  } else if (section === "partitioned") {
    out.push("## Partitioned mode (REPLICAS=2) on real processes (loopback)", "");
    out.push(...await partitionedBench(quick), "");
    out.push(
      "Memory: each node loaded through /internal/replicate with exactly the records it holds in",
      "that mode (all of them, or those of the buckets it owns), as replication leaves it; RSS",
      "growth is VmRSS after the load minus before. GET: wrk (2 threads, 64 connections) against",
      "node 0 for one key, 3 alternating rounds of 5 s with both clusters up, medians, on the same",
      "2 cores. Rebalance: a 6th node started with PEER; done when the 6 nodes hold exactly 2",
      "copies of every key again.",
      "",
    );
  } else if (section === "kv") {
    out.push("## KV API: batches and counters (one node, wrk)", "");
    out.push(...await kvBench(quick ? 2 : 5, quick ? 1 : 3), "");
  } else if (section === "client") {
    out.push("## Client: GETs routed to owners vs one fixed node (5 nodes, REPLICAS=2)", "");
    out.push(...await clientBench(quick ? 2 : 5, quick ? 1 : 3), "");
  } else if (section === "workers") {
    out.push("## Edge workers: pool overhead (one node, wrk)", "");
    out.push(...await workersBench(quick ? 2 : 5, quick ? 1 : 3), "");
  } else if (section === "edge") {
    out.push("## Edge cache: HIT against nginx proxy_cache and Varnish, thundering herd", "");
    out.push(...await edgeBench(quick ? 1 : 5, quick ? 1 : 3), "");
  } else if (section === "placement") {
    out.push("## Placement schemes: key balance and movement (in process)", "");
    out.push(...placementBench(quick), "");
  } else {
    throw new Error(
      `Unknown bench section ${
        JSON.stringify(section)
      }: expected http, memory, membership, interop, replication, partitioned, placement, kv, client, workers or edge`,
    );
  }
}

const header = [
  `Run on ${
    new Date().toISOString().slice(0, 10)
  }, ${cpu}, ${navigator.hardwareConcurrency} cores,`,
  `Deno ${Deno.version.deno}. Command: \`${["deno task bench", ...Deno.args].join(" ")}\`.`,
  "",
];
const text = [...header, ...out].join("\n");
console.log(text);
if (!quick) {
  const path = new URL(`../../docs/bench/${sections.join("-")}.md`, import.meta.url);
  await Deno.mkdir(new URL(".", path), { recursive: true });
  await Deno.writeTextFile(path, text + "\n");
  console.error(`wrote ${path.pathname}`);
}
