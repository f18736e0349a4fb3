/**
 * The cluster dashboard a node serves itself: {@link dashboardHtml} (the page at `GET /`) and
 * {@link dashboardState} (the JSON it polls at `GET /dashboard/state`).
 *
 * @module
 */

export * from "./page.ts";
export * from "./state.ts";
