/**
 * The logging door of the transports: a plain callback, so the node can route transport
 * messages into whatever logger it uses and tests can capture or silence them.
 *
 * @module
 */

/** Severity of a transport log message. */
export type TransportLogLevel = "debug" | "warn" | "error";

/**
 * Receives transport log messages. Must not throw.
 *
 * @param level severity: `debug` for routine drops, `warn` for I/O errors the transport
 *   survives, `error` for bugs such as a handler that threw.
 * @param message one line, naming the transport's address and what happened.
 * @param error the underlying error, when there is one.
 */
export type TransportLogger = (level: TransportLogLevel, message: string, error?: unknown) => void;

/** A logger that discards everything. */
export const silentLogger: TransportLogger = () => {};

/** A logger that writes `warn` and `error` to the console and drops `debug`. */
export const consoleLogger: TransportLogger = (level, message, error) => {
  if (level === "debug") return;
  const line = `[transport] ${level}: ${message}`;
  if (error === undefined) console.error(line);
  else console.error(line, error);
};
