/**
 * The API edge: serves a {@link CacheService} over HTTP. `createHandler` (fast path + Hono app,
 * in-flight cap, metrics) is what a node hands to `Deno.serve`; `createApp` is the Hono app
 * alone. Routes, statuses and headers are the contract of README's HTTP API section.
 *
 * @module
 */

export { type AppOptions, createApp } from "./app.ts";
export { createHandler, type Handler } from "./handler.ts";
export { HttpError } from "./errors.ts";
export { BearerAuth, type BearerAuthOptions } from "./auth.ts";
export { InFlightLimit, type InFlightStats } from "./in_flight.ts";
export { FORWARDED_HEADER } from "./forward.ts";
export type { StreamLimits, StreamStats } from "./internal_stream.ts";
