/**
 * The engine's door for membership's own harnesses (`testing/sim_member.ts`): the one engine
 * assembly and the few internals a simulated member drives directly (push/pull, address
 * conversion). Applications use `Memberlist` from `mod.ts` instead.
 *
 * @module
 */

export type { EngineContext } from "./_context.ts";
export { Engine } from "./_engine.ts";
export { ipToBytes } from "./_ip.ts";
export { addressOf } from "./_packet_io.ts";
export { pushPull } from "./_streams.ts";
