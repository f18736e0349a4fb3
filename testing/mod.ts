/**
 * The harness shared by the multi-process tests (`tests/`) and the scripts (`scripts/`: bench,
 * chaos, soak, fuzz, the cluster launcher): start nodes with the README's own command
 * ({@link NodeProcess}, {@link startCluster}), wait with deadlines ({@link waitFor}), talk to
 * them over HTTP ({@link statsOf}, {@link put}, {@link waitSameDigest}), make throwaway TLS
 * certificates, build and drive the Go memberlist peer (`testing/gopeer`, {@link GoPeer}), and
 * run a node in-process without servers on virtual time ({@link startTestNode}).
 *
 * The direction of imports, so that no two of these folders import each other:
 *
 * - `testing/` sits at the bottom: it imports `src/`, `mod.ts` and npm packages, never
 *   `scripts/` or `tests/`.
 * - `scripts/` import `testing/` (this module), never `tests/`.
 * - `tests/` import `testing/`, and may import the script they test (a test of a script that
 *   runs it as a process imports at most its report types).
 *
 * Unit tests of one area's code stay beside that code (`src/<area>/*_test.ts`); in-process
 * membership harnesses (mock network, simulated members) live in `src/membership/testing/`.
 *
 * @module
 */

export * from "./node_process.ts";
export * from "./cluster_process.ts";
export * from "./replication_client.ts";
export * from "./test_cert.ts";
export * from "./go_peer.ts";
export * from "./test_node.ts";
export * from "./headless_chromium.ts";
export * from "./binaries.ts";
