/**
 * The chaos run's cluster: real node processes (the README's `deno task run` command, through
 * the test support's {@link NodeProcess}) that faults can SIGKILL and restart empty, or SIGSTOP
 * and SIGCONT, while clients pick among the nodes that are running.
 *
 * @module
 */

import { NodeProcess, startCluster } from "../../testing/mod.ts";
import { type Random, randomInt } from "../../src/util/random.ts";

/** What a fault did to a node. */
export type NodeCondition = "running" | "stopped" | "down";

/** One node of the cluster and its condition. */
export interface ChaosNode {
  /** Index in the cluster (stable across restarts). */
  readonly index: number;
  /** The current process (replaced on restart). */
  process: NodeProcess;
  /** Whether it runs, is SIGSTOPped, or is killed and not yet restarted. */
  condition: NodeCondition;
  /** How many times it was restarted. */
  restarts: number;
}

/** A node process that exited without being killed by a fault. */
export interface NodeCrash {
  /** Node index. */
  node: number;
  /** Exit code. */
  code: number;
  /** The signal that ended it, if any. */
  signal: string | null;
  /** Its last log lines. */
  log: string[];
}

/** A cluster whose nodes faults can kill, restart, stop and resume. */
export class ChaosCluster {
  /** Processes that exited on their own. */
  readonly crashes: NodeCrash[] = [];
  #closing = false;

  private constructor(
    /** The nodes, by index. */
    readonly nodes: ChaosNode[],
    /** Picks the nodes for clients and faults. */
    readonly random: Random,
  ) {
    for (const node of nodes) this.#watch(node);
  }

  // Records the exit of the node's current process unless a fault or close() caused it.
  #watch(node: ChaosNode): void {
    const process = node.process;
    process.status.then((status) => {
      if (this.#closing || node.process !== process || node.condition === "down") return;
      node.condition = "down";
      this.crashes.push({
        node: node.index,
        code: status.code,
        signal: status.signal,
        log: process.logs.slice(-30),
      });
    });
  }

  /** Starts `size` nodes joined through node 0, with `env` added to each node's settings. */
  static async start(
    prefix: string,
    size: number,
    env: Record<string, string>,
    random: Random,
  ): Promise<ChaosCluster> {
    const processes = await startCluster(prefix, size, env);
    const nodes = processes.map((process, index) => ({
      index,
      process,
      condition: "running" as const,
      restarts: 0,
    }));
    return new ChaosCluster(nodes, random);
  }

  /** The running nodes (neither stopped nor down). */
  running(): ChaosNode[] {
    return this.nodes.filter((n) => n.condition === "running");
  }

  /** A random running node, or undefined if none runs. */
  pickRunning(except?: ChaosNode): ChaosNode | undefined {
    const candidates = this.running().filter((n) => n !== except);
    return candidates.length === 0
      ? undefined
      : candidates[randomInt(this.random, candidates.length)];
  }

  /** The current processes of all nodes. */
  processes(): NodeProcess[] {
    return this.nodes.map((n) => n.process);
  }

  /** SIGKILLs a node and waits until its process is gone. */
  async kill(node: ChaosNode): Promise<void> {
    node.condition = "down";
    await node.process.stop("SIGKILL");
  }

  /**
   * Restarts a killed node empty, with its name and ports, joining through a running peer
   * (waits for one); resolves once it answers `/healthz`.
   */
  async restart(node: ChaosNode): Promise<void> {
    if (node.condition !== "down") {
      throw new Error(`Cannot restart node ${node.index}: it is ${node.condition}, not down`);
    }
    let peer = this.pickRunning(node);
    while (!peer) {
      await new Promise((r) => setTimeout(r, 100));
      peer = this.pickRunning(node);
    }
    const { PEER: _seed, ...env } = node.process.env;
    node.process = await NodeProcess.start({
      ...env,
      PEER: `127.0.0.1:${peer.process.gossipPort}`,
    });
    node.restarts++;
    node.condition = "running";
    this.#watch(node);
  }

  /** SIGSTOPs a running node. */
  pause(node: ChaosNode): void {
    node.condition = "stopped";
    node.process.signal("SIGSTOP");
  }

  /** SIGCONTs a stopped node. */
  resume(node: ChaosNode): void {
    node.process.signal("SIGCONT");
    node.condition = "running";
  }

  /** Resumes stopped nodes and kills every process (for the end of a run, or on failure). */
  async close(): Promise<void> {
    this.#closing = true;
    for (const n of this.nodes) if (n.condition === "stopped") n.process.signal("SIGCONT");
    await Promise.all(this.nodes.map((n) => n.process.stop()));
  }
}
