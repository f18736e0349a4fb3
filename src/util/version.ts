/**
 * The version of cachenode. Its one source of truth is the `version` field of `deno.json`, read
 * here by a JSON import: the import is part of the module graph, so `deno compile` bakes it into
 * the executable and a library user importing `mod.ts` by URL gets it too.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

/** cachenode's version (`deno.json` `version`), e.g. `0.9.0`. */
export const VERSION: string = denoJson.version;

/** The version of the Deno runtime this process runs on. */
export const DENO_VERSION: string = Deno.version.deno;

/** What `--version` prints: `cachenode <version> (deno <version>)`. */
export function versionLine(): string {
  return `cachenode ${VERSION} (deno ${DENO_VERSION})`;
}
