/**
 * Buffered byte sources for the stream decoder: one over a connection (incremental, with a byte
 * cap and an abort-signal deadline) and one over bytes already in memory (a decrypted or
 * decompressed payload), behind one interface so message parsing is written once.
 *
 * @module
 */

/** Why reading a stream message failed. */
export type StreamErrorReason =
  /** The deadline signal fired. */
  | "timeout"
  /** The peer closed (or the read failed) before the message was complete. */
  | "closed"
  /** A byte cap or protocol limit (nodes, user state, decompressed size) was exceeded. */
  | "too-large"
  /** Bytes that do not decode. */
  | "malformed"
  /** Label header malformed or not ours. */
  | "label"
  /** Encrypted when we cannot decrypt, not encrypted when required, or decryption failed. */
  | "decrypt"
  /** A message type that is not valid on a stream. */
  | "unsupported-type";

/** A failed stream read, with a machine-readable `reason`. */
export class StreamError extends Error {
  /** Machine-readable cause. */
  readonly reason: StreamErrorReason;
  /** The offending type byte, for `unsupported-type`. */
  readonly messageType?: number;
  /**
   * @param reason the cause
   * @param message a human-readable explanation
   * @param options `cause` and, for unsupported types, the type byte
   */
  constructor(
    reason: StreamErrorReason,
    message: string,
    options: { cause?: unknown; messageType?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StreamError";
    this.reason = reason;
    if (options.messageType !== undefined) this.messageType = options.messageType;
  }
}

/** The read half of a connection (`StreamConn` from src/transport/transport.ts fits). */
export interface StreamSource {
  /** Reads into `buf`; resolves to the count read, or `null` at end of stream. */
  read(buf: Uint8Array): Promise<number | null>;
}

/** Unread bytes plus a way to wait for more. */
export interface ByteSource {
  /** The unread bytes buffered now (a view, valid until the next call). */
  available(): Uint8Array;
  /** Resolves once at least `n` unread bytes are buffered; throws a {@link StreamError}. */
  ensure(n: number): Promise<void>;
  /** Marks `n` buffered bytes as read. */
  consume(n: number): void;
}

/** Bytes fully in memory: running short is a malformed (truncated) message. */
export class MemorySource implements ByteSource {
  #bytes: Uint8Array;
  #pos = 0;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }
  available(): Uint8Array {
    return this.#bytes.subarray(this.#pos);
  }
  ensure(n: number): Promise<void> {
    if (this.#bytes.length - this.#pos >= n) return Promise.resolve();
    return Promise.reject(
      new StreamError("malformed", "Cannot decode stream message: truncated payload"),
    );
  }
  consume(n: number): void {
    this.#pos += n;
  }
}

// A peer (or a broken in-memory conn) answering reads with 0 bytes forever must not spin.
const MAX_EMPTY_READS = 1000;

/** A connection read incrementally, never past `maxBytes` in total, until `signal` aborts. */
export class ConnSource implements ByteSource {
  #conn: StreamSource;
  #maxBytes: number;
  #signal: AbortSignal | undefined;
  #buf = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  #total = 0;

  constructor(conn: StreamSource, maxBytes: number, signal?: AbortSignal) {
    this.#conn = conn;
    this.#maxBytes = maxBytes;
    this.#signal = signal;
  }

  available(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  consume(n: number): void {
    this.#start += n;
  }

  async ensure(n: number): Promise<void> {
    const missing = n - (this.#end - this.#start);
    if (missing <= 0) return;
    if (missing > this.#maxBytes - this.#total) {
      throw new StreamError(
        "too-large",
        `Cannot read stream: message needs more than maxBytes: ${this.#maxBytes}`,
      );
    }
    this.#makeRoom(n);
    let empty = 0;
    while (this.#end - this.#start < n) {
      const room = Math.min(this.#buf.length - this.#end, this.#maxBytes - this.#total);
      const got = await this.#read(this.#buf.subarray(this.#end, this.#end + room));
      if (got === null || ++empty > MAX_EMPTY_READS) {
        throw new StreamError("closed", "Cannot read stream: connection closed mid-message");
      }
      if (got > 0) empty = 0;
      this.#end += got;
      this.#total += got;
    }
  }

  /** Moves unread bytes to the front, growing the buffer so `n` of them fit. */
  #makeRoom(n: number): void {
    if (this.#start + n <= this.#buf.length) return;
    const unread = this.#buf.subarray(this.#start, this.#end);
    const target = n <= this.#buf.length ? this.#buf : new Uint8Array(
      Math.max(n, Math.min(this.#buf.length * 2, this.#maxBytes)),
    );
    if (target === this.#buf) this.#buf.copyWithin(0, this.#start, this.#end);
    else target.set(unread);
    this.#buf = target;
    this.#end -= this.#start;
    this.#start = 0;
  }

  #read(view: Uint8Array): Promise<number | null> {
    const signal = this.#signal;
    const timeout = () => new StreamError("timeout", "Cannot read stream: deadline passed");
    if (signal?.aborted) return Promise.reject(timeout());
    const read = this.#conn.read(view).catch((e) => {
      throw new StreamError("closed", `Cannot read stream: ${(e as Error)?.message ?? e}`, {
        cause: e,
      });
    });
    if (!signal) return read;
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(timeout());
      signal.addEventListener("abort", onAbort, { once: true });
      read.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }
}
