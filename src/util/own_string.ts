/**
 * Strings the store keeps for a long time, as strings of their own. A key cut from a longer string
 * (the request URL, by `slice`) is, from 13 characters up, a view that V8 keeps together with that
 * whole string: stored, it would hold the URL alive as long as the entry lives (measured in
 * docs/benchmarks.md, "Resident memory per entry vs Redis").
 *
 * @module
 */

/** `s` copied into a string of its own (a JSON round trip copies any string exactly). */
export function ownString(s: string): string {
  return s.length < 13 ? s : JSON.parse(JSON.stringify(s));
}
