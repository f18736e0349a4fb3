/**
 * Edge cache benchmark (issue 20): HIT throughput of the node's edge listener side by side with
 * nginx `proxy_cache` (`proxy_cache_lock on`) and Varnish (`varnishd -F -s malloc`) caching the
 * same origin (`edge_origin.ts`, 100-byte body, `max-age=3600`), and the node's own
 * `GET /cache/{key}` hit, each server pinned to core 0 with wrk (`-t1 -c50`) on core 1, in
 * alternating rounds (as `http_bench.ts`). Then a thundering herd: N concurrent first requests
 * of a fresh URL to each, and how many reached the origin (the edge on a 3-node cluster, spread
 * over its nodes; nginx and Varnish one instance each). nginx and Varnish run from configs and
 * work dirs this script writes under a temp dir; both are Debian packages (`.ci/run`).
 *
 * Usage: `deno task bench edge` (or `--quick` for 1 s rounds). Figures go to docs/benchmarks.md
 * only (written by the coordinator from an idle run).
 *
 * @module
 */

import { clusterEnv, freePort, NodeProcess, waitFor, waitReady } from "../../testing/mod.ts";
import { IDLE_LOAD, wrk, type WrkOptions, type WrkResult } from "./http_bench.ts";

const PINNED: WrkOptions = { threads: 1, connections: 50, cpus: "1" };
const HERD = 200;

interface Server {
  name: string;
  url: string;
  stop(): Promise<void>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function waitUp(url: string, what: string): Promise<void> {
  await waitFor(what, async () => {
    const r = await fetch(url).catch(() => undefined);
    await r?.body?.cancel();
    return r !== undefined || undefined;
  }, 15_000);
}

function spawn(args: string[], cpus?: string): Deno.ChildProcess {
  const [program, ...rest] = cpus === undefined ? args : ["taskset", "-c", cpus, ...args];
  return new Deno.Command(program, { args: rest, stdout: "null", stderr: "piped" }).spawn();
}

async function stopChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // gone
  }
  await child.stderr.cancel().catch(() => {});
  await child.status;
}

async function startOrigin(): Promise<Server & { count(path: string): Promise<number> }> {
  const port = freePort();
  const child = spawn([
    Deno.execPath(),
    "run",
    "--allow-net=127.0.0.1",
    new URL("edge_origin.ts", import.meta.url).pathname,
    String(port),
  ], "1");
  const url = `http://127.0.0.1:${port}`;
  await waitUp(`${url}/__count`, "origin");
  return {
    name: "origin",
    url,
    stop: () => stopChild(child),
    count: async (path) => Number(await (await fetch(`${url}/__count?path=${path}`)).text()),
  };
}

async function startNginx(dir: string, origin: string): Promise<Server> {
  const port = freePort();
  const conf = `${dir}/nginx.conf`;
  await Deno.writeTextFile(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  # Tuned as a production cache would be: keep-alive connections are not cut every 1,000
  # requests (nginx's default), cache files are served by sendfile with their descriptors kept.
  keepalive_requests 10000000;
  sendfile on;
  open_file_cache max=1000 inactive=60s;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  proxy_cache_path ${dir}/nginx-cache keys_zone=edge:10m;
  upstream origin { server ${origin.replace("http://", "")}; keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache edge;
      proxy_cache_lock on;
      add_header X-Cache $upstream_cache_status;
    }
  }
}
`,
  );
  const child = spawn(["nginx", "-e", `${dir}/nginx-error.log`, "-c", conf, "-p", dir], "0");
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url, "nginx");
  return { name: "nginx proxy_cache", url, stop: () => stopChild(child) };
}

async function startVarnish(dir: string, origin: string): Promise<Server> {
  const port = freePort();
  const workdir = `${dir}/varnish`;
  await Deno.mkdir(workdir, { recursive: true });
  await Deno.chmod(dir, 0o755);
  const child = spawn([
    "varnishd",
    "-F",
    "-n",
    workdir,
    "-a",
    `127.0.0.1:${port}`,
    "-b",
    origin.replace("http://", ""),
    "-s",
    "malloc,256m",
  ], "0");
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url, "varnish");
  return { name: "Varnish", url, stop: () => stopChild(child) };
}

async function warm(url: string, expectHit: (res: Response) => boolean, what: string) {
  await waitFor(`${what} HIT`, async () => {
    const res = await fetch(url);
    await res.body?.cancel();
    return expectHit(res) || undefined;
  }, 10_000);
}

/** Concurrent first requests of a fresh path spread over `urls`; how many reached the origin. */
async function herd(
  urls: string[],
  path: string,
  origin: { count(path: string): Promise<number> },
): Promise<number> {
  await Promise.all(
    Array.from({ length: HERD }, async (_, i) => {
      const res = await fetch(urls[i % urls.length] + path);
      await res.body?.cancel();
    }),
  );
  return await origin.count(path);
}

async function requireBinary(name: string, pkg: string): Promise<void> {
  const found = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
    .output();
  if (!found.success) {
    throw new Error(`bench edge needs ${name}: install the Debian package ${pkg}`);
  }
}

/** Runs the edge benchmark; returns markdown lines. */
export async function edgeBench(seconds: number, rounds: number): Promise<string[]> {
  for (const [name, pkg] of [["nginx", "nginx"], ["varnishd", "varnish"], ["wrk", "wrk"]]) {
    await requireBinary(name, pkg);
  }
  // nginx's cache files on tmpfs when there is one: in memory, as the node's and Varnish's are.
  const shm = await Deno.stat("/dev/shm").then((s) => s.isDirectory, () => false);
  const dir = await Deno.makeTempDir({
    prefix: "cachenode-edge-bench-",
    ...(shm ? { dir: "/dev/shm" } : {}),
  });
  const stops: (() => Promise<void>)[] = [];
  try {
    const origin = await startOrigin();
    stops.push(origin.stop);
    const seed = freePort();
    const edgePorts = [freePort(), freePort(), freePort()];
    const nodes: NodeProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const env = clusterEnv("edgebench", i, seed, {
        LOG_LEVEL: "warn",
        GOSSIP_PROFILE: "local",
        ORIGIN: origin.url,
        EDGE_PORT: String(edgePorts[i]),
      });
      // Node 0 is measured (core 0); the other two only join the herd.
      const node = await NodeProcess.start(env, i === 0 ? { cpus: "0" } : {});
      nodes.push(node);
      stops.push(async () => void await node.stop());
    }
    await waitReady(nodes);
    const nginx = await startNginx(dir, origin.url);
    stops.push(nginx.stop);
    const varnish = await startVarnish(dir, origin.url);
    stops.push(varnish.stop);
    const edgeUrls = edgePorts.map((p) => `http://127.0.0.1:${p}`);

    const put = await fetch(nodes[0].url("/cache/hit"), { method: "PUT", body: "x".repeat(100) });
    await put.body?.cancel();
    const targets = {
      edge: `${edgeUrls[0]}/hit`,
      nginx: `${nginx.url}/hit`,
      varnish: `${varnish.url}/hit`,
      node: nodes[0].url("/cache/hit"),
    };
    await warm(targets.edge, (r) => r.headers.get("x-cache") === "HIT", "edge");
    await warm(targets.nginx, (r) => r.headers.get("x-cache") === "HIT", "nginx");
    await warm(targets.varnish, (r) =>
      Number(r.headers.get("age") ?? "0") >= 0 &&
      (r.headers.get("x-varnish") ?? "").includes(" "), "varnish");

    const load = Deno.loadavg()[0];
    const results: Record<keyof typeof targets, WrkResult[]> = {
      edge: [],
      nginx: [],
      varnish: [],
      node: [],
    };
    for (let r = 0; r < rounds; r++) {
      for (const name of Object.keys(targets) as (keyof typeof targets)[]) {
        results[name].push(await wrk(targets[name], seconds, undefined, PINNED));
      }
    }
    const rps = (name: keyof typeof targets) => median(results[name].map((x) => x.rps));
    const p99 = (name: keyof typeof targets) => median(results[name].map((x) => x.p99));

    const herds = {
      edge: await herd(edgeUrls, "/herd-edge", origin),
      nginx: await herd([nginx.url], "/herd-nginx", origin),
      varnish: await herd([varnish.url], "/herd-varnish", origin),
    };
    const row = (label: string, name: keyof typeof targets) =>
      `| ${label} | ${rps(name).toFixed(0)} | ${p99(name)} | ${
        (rps(name) / rps("nginx")).toFixed(2)
      }× | ${(rps(name) / rps("node")).toFixed(2)}× |`;
    return [
      `Load average (1 min) at start: ${load.toFixed(2)} (${
        load <= IDLE_LOAD ? "idle" : "NOT IDLE: figures disturbed"
      }); each server on core 0, wrk on core 1 (1 thread, 50 connections); ${rounds} alternating rounds of ${seconds} s, medians; 100-byte body.`,
      "",
      "| HIT of | requests/s | p99 ms | vs nginx | vs node GET |",
      "| --- | --- | --- | --- | --- |",
      row("edge listener (EDGE_PORT)", "edge"),
      row("nginx proxy_cache", "nginx"),
      row("Varnish", "varnish"),
      row("node GET /cache/{key}", "node"),
      "",
      `Thundering herd: ${HERD} concurrent first requests of one fresh URL (origin answers after 50 ms).`,
      "",
      "| cache | origin requests |",
      "| --- | --- |",
      `| edge, 3-node cluster (requests spread over the nodes) | ${herds.edge} |`,
      `| nginx proxy_cache (proxy_cache_lock on), one instance | ${herds.nginx} |`,
      `| Varnish, one instance | ${herds.varnish} |`,
    ];
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) console.log((await edgeBench(2, 1)).join("\n"));
