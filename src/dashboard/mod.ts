/**
 * The cluster dashboard a node serves itself: {@link dashboardHtml} (the page at `GET /`),
 * {@link NodeHistory} (the events and per-second samples each node keeps) and
 * {@link dashboardState} (the JSON the page polls at `GET /dashboard/state`, merged from every
 * live member's own history).
 *
 * @module
 */

export * from "./history.ts";
export * from "./merge.ts";
export * from "./page.ts";
export * from "./state.ts";
