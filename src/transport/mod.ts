/**
 * The network under the membership protocol: best-effort packets and reliable streams on one
 * address ({@link Transport}), with two implementations.
 *
 * - {@link DenoTransport}: UDP and TCP bound to the same host:port (memberlist's layout), UDP
 *   sent from the listening socket, receive loops that survive any error, dial timeouts, and a
 *   `close()` that leaves nothing running. Needs `--allow-net` and the `net` unstable flag.
 * - {@link MemoryNetwork} / {@link MemoryTransport}: an in-process network on an injected
 *   clock (usually a `VirtualClock`) with seeded loss, latency and jitter, partitions,
 *   isolation, paused (SIGSTOP) and killed (SIGKILL) nodes, packet taps and counters; cheap
 *   enough per packet for simulations of thousands of nodes. {@link runFor} and
 *   {@link settle} drive it from tests.
 *
 * Both count traffic in a {@link TransportStats} and report I/O trouble to a
 * {@link TransportLogger}. Dial failures use the runtime's error classes on both:
 * `Deno.errors.TimedOut`, `Deno.errors.ConnectionRefused`, `Deno.errors.BadResource` (closed).
 *
 * ```ts
 * import { MemoryNetwork, runFor } from "./mod.ts";
 * import { VirtualClock } from "../util/clock.ts";
 *
 * const clock = new VirtualClock();
 * const net = new MemoryNetwork({ clock, latencyMs: 2, loss: 0.01 });
 * const a = net.attach("10.0.0.1:7946");
 * const b = net.attach("10.0.0.2:7946");
 * b.onPacket((packet) => console.log(packet.data, packet.from, packet.receivedAt));
 * await a.sendPacket(b.localAddress, new Uint8Array([0]));
 * await runFor(clock, 10);
 * ```
 *
 * @module
 */

export * from "./transport.ts";
export * from "./deno_transport.ts";
export * from "./deno_stream_conn.ts";
export * from "./memory_network.ts";
export * from "./memory_transport.ts";
export * from "./logger.ts";
export * from "./stats.ts";
export * from "./testing.ts";
