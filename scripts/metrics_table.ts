/**
 * Prints the README's metrics table from the metric catalogue (`src/metrics/catalogue.ts`):
 * `deno run scripts/metrics_table.ts`, paste between the README's `metrics-table` markers, then
 * `deno fmt`. `src/metrics/catalogue_test.ts` fails while the README and the catalogue differ.
 *
 * @module
 */

import { catalogueMarkdown } from "../src/metrics/mod.ts";

if (import.meta.main) console.log(catalogueMarkdown());
