/**
 * The config as one loggable record for the start-up log line, with secrets masked: any field
 * whose name says it holds a secret (key, token, password) is shown as `***` plus its length.
 *
 * @module
 */

// workerVars: a worker's vars often carry API keys (there is no separate secrets store).
const SECRET_FIELD = /(secret|token|password|privatekey|^tlsKey$|^workerVars$)/i;

/** A flat, log-safe view of `config` (nested objects flattened with dots). */
export function describeConfig(config: object, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) {
    const key = prefix + name;
    if (SECRET_FIELD.test(name) && value !== undefined && value !== "") {
      const items = Array.isArray(value) ? value : [value];
      out[key] = items.map((v) => `***(${String(v).length})`).join(",");
    } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      Object.assign(out, describeConfig(value, `${key}.`));
    } else {
      out[key] = Array.isArray(value) ? value.join(",") : value;
    }
  }
  return out;
}
