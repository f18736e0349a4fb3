/**
 * Node configuration: the {@link NodeConfig} type with its defaults (`schema.ts`), the settings
 * table of env vars and flags (`options.ts`), {@link loadConfig}, which reads them (flags win)
 * and rejects bad values with a {@link ConfigError} naming the variable, the value and what is
 * allowed (`load.ts`), the gossip keys decoded into bytes (`keys.ts`), and the Deno permissions
 * a config needs (`permissions.ts`). Config imports no other area: the node turns it into the
 * objects the layers above use.
 *
 * @module
 */

export * from "./schema.ts";
export * from "./options.ts";
export * from "./load.ts";
export * from "./keys.ts";
export * from "./units.ts";
export * from "./describe.ts";
export * from "./permissions.ts";
export * from "./peers.ts";
