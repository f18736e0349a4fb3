/**
 * Node configuration: the {@link NodeConfig} type with its defaults, and {@link loadConfig},
 * which reads env vars and flags (flags win) and rejects bad values with a {@link ConfigError}
 * naming the variable, the value and what is allowed.
 *
 * @module
 */

export * from "./node_config.ts";
export * from "./units.ts";
export * from "./describe.ts";
