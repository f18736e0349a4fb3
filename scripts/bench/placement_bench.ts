/**
 * Placement benchmark (`deno task bench placement`): key balance and key movement of the
 * placement schemes considered for partitioned mode, on the same keys and member names:
 * rendezvous hashing of digest buckets (1024 and 4096 buckets, what `Placement` does), rendezvous
 * hashing of each key, and a consistent-hash ring with 64 or 256 virtual nodes per member.
 * Balance is max/mean keys per member with 2 copies per key (mean and worst over random member
 * names); movement is the share of key copies that change owner when a member joins.
 *
 * @module
 */

import { fmix32, hashLane1 } from "../../src/util/hash.ts";
import { Placement, rendezvousScore } from "../../src/replication/placement.ts";
import { flagsOrExit } from "../cli_flags.ts";

type Owners = (key: string, keyHash: number) => string[];

function bucketScheme(members: string[], buckets: number): Owners {
  const p = new Placement(members, 2, buckets);
  return (_key, h) => p.owners(h & (buckets - 1));
}

function keyRendezvous(members: string[]): Owners {
  const hashes = members.map((m) => hashLane1(m));
  return (_key, h) => {
    const scored = hashes.map((mh, i) => [rendezvousScore(mh, h), i]);
    scored.sort((a, b) => b[0] - a[0]);
    return [members[scored[0][1]], members[scored[1][1]]];
  };
}

function ring(members: string[], vnodes: number): Owners {
  const points: [number, string][] = [];
  for (const m of members) {
    for (let v = 0; v < vnodes; v++) points.push([hashLane1(`${m}#${v}`), m]);
  }
  points.sort((a, b) => a[0] - b[0]);
  const at = points.map((p) => p[0]);
  return (_key, h) => {
    const x = fmix32(h);
    let lo = 0, hi = at.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; out.length < 2; i++) {
      const m = points[i % points.length][1];
      if (!out.includes(m)) out.push(m);
    }
    return out;
  };
}

const SCHEMES: [string, (members: string[]) => Owners][] = [
  ["rendezvous of 1024 buckets", (m) => bucketScheme(m, 1024)],
  ["rendezvous of 4096 buckets (partitioned mode)", (m) => bucketScheme(m, 4096)],
  ["rendezvous of each key", keyRendezvous],
  ["ring, 64 virtual nodes per member", (m) => ring(m, 64)],
  ["ring, 256 virtual nodes per member", (m) => ring(m, 256)],
];

/** Runs the comparison; returns markdown lines. */
export function placementBench(quick: boolean): string[] {
  const keys = Array.from({ length: quick ? 20_000 : 200_000 }, (_, i) => `key:${i}`);
  const hashes = keys.map((k) => hashLane1(k));
  const trials = quick ? 3 : 10;
  const lines = [
    `${
      keys.length.toLocaleString("en")
    } keys, 2 copies each, ${trials} random sets of member names per size.`,
    "",
    "| scheme | max/mean keys, 5 members (mean / worst) | max/mean, 10 members (mean / worst) | copies moved when a 6th member joins 5 | ideal |",
    "|---|---|---|---|---|",
  ];
  for (const [name, make] of SCHEMES) {
    const balance = (n: number) => {
      let sum = 0, worst = 0;
      for (let t = 0; t < trials; t++) {
        const members = Array.from({ length: n }, (_, i) => `node-${t}-${i}`);
        const owners = make(members);
        const counts = new Map(members.map((m) => [m, 0]));
        keys.forEach((k, i) =>
          owners(k, hashes[i]).forEach((o) => counts.set(o, counts.get(o)! + 1))
        );
        const r = Math.max(...counts.values()) / (2 * keys.length / n);
        sum += r;
        worst = Math.max(worst, r);
      }
      return `${(sum / trials).toFixed(3)} / ${worst.toFixed(3)}`;
    };
    const members = Array.from({ length: 5 }, (_, i) => `node-0-${i}`);
    const before = make(members), after = make([...members, "node-0-5"]);
    let moved = 0;
    keys.forEach((k, i) => {
      const a = new Set(before(k, hashes[i]));
      for (const o of after(k, hashes[i])) if (!a.has(o)) moved++;
    });
    const share = (100 * moved / (2 * keys.length)).toFixed(1);
    lines.push(
      `| ${name} | ${balance(5)} | ${balance(10)} | ${share} % | ${(100 / 6).toFixed(1)} % |`,
    );
  }
  return lines;
}

if (import.meta.main) {
  console.log(
    placementBench(
      flagsOrExit({ command: "deno run --allow-all scripts/bench/placement_bench.ts" }, {
        quick: false,
      }).quick,
    ).join("\n"),
  );
}
