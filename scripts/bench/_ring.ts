/**
 * An experiment kept for `worker_channel_bench.ts`, not used by `src/workers/`: a one-way message
 * ring in a `SharedArrayBuffer`, a candidate replacement of `postMessage` between the host and an
 * edge worker (issue 21). The writer encodes a message (an array of numbers, strings, byte
 * buffers, nested arrays, and JSON for anything else) straight into the ring and wakes the reader
 * with `Atomics.notify` only when it sleeps, once per run of microtasks; the reader waits with
 * `Atomics.waitAsync` (its event loop keeps running), or blocks its thread in `Atomics.wait`
 * while it has nothing else to do (`block`). A message that does not fit is refused (`write`
 * returns false: the caller would send it by `postMessage`). The ring does not spend less CPU per
 * round trip than `postMessage` frames (docs/benchmarks.md, "Edge workers"), hence not adopted.
 *
 * {@link ringFactory} is self-contained (no imports, no outer names): a worker gets it as source
 * text.
 *
 * @module
 */

/** A ring's writing end. */
export interface RingWriter {
  /** Encodes `message` into the ring; false when it does not fit now (send it another way). */
  write(message: readonly unknown[]): boolean;
  /** Counts a message sent another way (`postMessage`) and wakes the reader to fetch it. */
  sentAside(): void;
  /** Wakes the reader now if a write is waiting for its wake-up (otherwise sent at the end of the run of microtasks). */
  wake(): void;
}

/** A ring's reading end. */
export interface RingReader {
  /** Hands every message waiting now to the reader's callback; returns how many. */
  drain(): number;
  /** Starts the asynchronous wait loop: each wake-up drains the ring. */
  start(): void;
  /**
   * Blocks the thread (`Atomics.wait`) until a message comes, up to `ms`, then drains: true when
   * woken, false on time-out. Returns at once when messages sent aside have not arrived yet.
   * `beforeWait` runs once this side shows as blocked (e.g. to wake the other side).
   */
  block(ms: number, receivedAside: number, beforeWait?: () => void): boolean;
  /** Ends the wait loop. */
  close(): void;
}
/** What {@link ringFactory} returns. */
export interface RingKit {
  /** A new shared buffer for one ring of `bytes` data bytes (a multiple of 8). */
  create(bytes: number): SharedArrayBuffer;
  /** The writing end of the ring in `buffer`. */
  writer(buffer: SharedArrayBuffer, manualWake?: boolean): RingWriter;
  /** The reading end of the ring in `buffer`, handing each message to `onMessage`. */
  reader(buffer: SharedArrayBuffer, onMessage: (message: unknown[]) => void): RingReader;
}

/** Builds the ring's two ends; self-contained, see the module doc. */
export function ringFactory(): RingKit {
  // Header: int32 slots, then the data. HEAD is where the reader reads next, TAIL where the
  // writer writes next (byte offsets into the data, multiples of 4; equal when empty). SLEEP is
  // 0 while the reader runs, 1 while its asynchronous loop waits on WAKE (which the writer
  // bumps), 2 while it blocks on TAIL. ASIDE counts messages the writer sent by postMessage.
  const HEAD = 0, TAIL = 1, SLEEP = 2, WAKE = 3, ASIDE = 4, CLOSED = 5, HEADER = 32, WRAP = -1;
  // Value tags of the encoding.
  const NULL = 0, INT = 1, FLOAT = 2, STR = 3, BUF = 4, U8 = 5, ARR = 6, JSON_ = 7;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  const create = (bytes: number) => new SharedArrayBuffer(HEADER + bytes);

  const writer = (buffer: SharedArrayBuffer, manualWake = false): RingWriter => {
    const i32 = new Int32Array(buffer, 0, 8);
    const data = new Uint8Array(buffer, HEADER);
    const view = new DataView(buffer, HEADER);
    const cap = data.length;
    let scratch = new Uint8Array(4096);
    let scratchView = new DataView(scratch.buffer);
    let at = 0;
    let notifyQueued = false;
    const room = (n: number) => {
      if (at + n <= scratch.length) return;
      const bigger = new Uint8Array(Math.max(scratch.length * 2, at + n));
      bigger.set(scratch.subarray(0, at));
      scratch = bigger;
      scratchView = new DataView(scratch.buffer);
    };
    const bytes = (src: Uint8Array) => {
      room(4 + src.length);
      scratchView.setUint32(at, src.length, true);
      scratch.set(src, at + 4);
      at += 4 + src.length;
    };
    const value = (v: unknown): void => {
      room(9);
      if (v === null || v === undefined) scratch[at++] = NULL;
      else if (typeof v === "number") {
        if ((v | 0) === v) {
          scratch[at] = INT;
          scratchView.setInt32(at + 1, v, true);
          at += 5;
        } else {
          scratch[at] = FLOAT;
          scratchView.setFloat64(at + 1, v, true);
          at += 9;
        }
      } else if (typeof v === "string") {
        scratch[at++] = STR;
        room(4 + v.length * 3);
        const { written } = encoder.encodeInto(v, scratch.subarray(at + 4));
        scratchView.setUint32(at, written, true);
        at += 4 + written;
      } else if (v instanceof ArrayBuffer) {
        scratch[at++] = BUF;
        bytes(new Uint8Array(v));
      } else if (v instanceof Uint8Array) {
        scratch[at++] = U8;
        bytes(v);
      } else if (Array.isArray(v)) {
        scratch[at] = ARR;
        scratchView.setUint32(at + 1, v.length, true);
        at += 5;
        for (let i = 0; i < v.length; i++) value(v[i]);
      } else {
        scratch[at++] = JSON_;
        bytes(encoder.encode(JSON.stringify(v)));
      }
    };
    const notify = () => {
      if (!notifyQueued) return;
      notifyQueued = false;
      const sleep = Atomics.load(i32, SLEEP);
      if (sleep === 1) {
        Atomics.add(i32, WAKE, 1);
        Atomics.notify(i32, WAKE);
      } else if (sleep === 2) Atomics.notify(i32, TAIL);
    };
    const queueNotify = () => {
      if (notifyQueued) return;
      notifyQueued = true;
      if (!manualWake) queueMicrotask(notify);
    };
    return {
      write(message) {
        at = 0;
        value(message);
        const need = 4 + ((at + 3) & ~3);
        const head = Atomics.load(i32, HEAD);
        let tail = Atomics.load(i32, TAIL);
        if (tail >= head) {
          // Free: [tail, cap) and [0, head); the ring may never become full (tail === head).
          if (cap - tail < need || (tail + need === cap && head === 0)) {
            if (need >= head) return false;
            view.setInt32(tail, WRAP, true);
            tail = 0;
          }
        } else if (tail + need >= head) return false;
        view.setInt32(tail, at, true);
        data.set(scratch.subarray(0, at), tail + 4);
        Atomics.store(i32, TAIL, (tail + need) % cap);
        queueNotify();
        return true;
      },
      sentAside() {
        Atomics.add(i32, ASIDE, 1);
        queueNotify();
      },
      wake: notify,
    };
  };

  const reader = (
    buffer: SharedArrayBuffer,
    onMessage: (message: unknown[]) => void,
  ): RingReader => {
    const i32 = new Int32Array(buffer, 0, 8);
    const data = new Uint8Array(buffer, HEADER);
    const view = new DataView(buffer, HEADER);
    const cap = data.length;
    let at = 0;
    const value = (): unknown => {
      const tag = data[at++];
      switch (tag) {
        case NULL:
          return null;
        case INT:
          at += 4;
          return view.getInt32(at - 4, true);
        case FLOAT:
          at += 8;
          return view.getFloat64(at - 8, true);
        case STR: {
          const n = view.getUint32(at, true);
          at += 4 + n;
          return decoder.decode(data.subarray(at - n, at));
        }
        case BUF:
        case U8: {
          const n = view.getUint32(at, true);
          at += 4 + n;
          const copy = data.slice(at - n, at);
          return tag === BUF ? copy.buffer : copy;
        }
        case ARR: {
          const n = view.getUint32(at, true);
          at += 4;
          const out = new Array(n);
          for (let i = 0; i < n; i++) out[i] = value();
          return out;
        }
        case JSON_: {
          const n = view.getUint32(at, true);
          at += 4 + n;
          return JSON.parse(decoder.decode(data.subarray(at - n, at)));
        }
        default:
          throw new TypeError(`corrupt ring (tag ${tag})`);
      }
    };
    // The writer may be the user's code (a worker's ring): a ring that does not add up throws
    // rather than loop or read out of bounds.
    const drain = (): number => {
      let head = Atomics.load(i32, HEAD), count = 0;
      const tail = Atomics.load(i32, TAIL);
      if (tail < 0 || tail >= cap || (tail & 3) !== 0) throw new RangeError("corrupt ring");
      let left = (tail - head + cap) % cap;
      while (left > 0) {
        const length = view.getInt32(head, true);
        const step = length === WRAP ? cap - head : 4 + ((length + 3) & ~3);
        if (length < WRAP || step > left) throw new RangeError("corrupt ring");
        left -= step;
        if (length === WRAP) {
          head = 0;
          Atomics.store(i32, HEAD, 0);
          continue;
        }
        at = head + 4;
        const message = value() as unknown[];
        if (at !== head + 4 + length) throw new RangeError("corrupt ring");
        head = (head + step) % cap;
        Atomics.store(i32, HEAD, head);
        count++;
        onMessage(message);
      }
      return count;
    };
    const loop = async () => {
      while (Atomics.load(i32, CLOSED) === 0) {
        drain();
        const wake = Atomics.load(i32, WAKE);
        Atomics.store(i32, SLEEP, 1);
        if (Atomics.load(i32, TAIL) === Atomics.load(i32, HEAD)) {
          const wait = Atomics.waitAsync(i32, WAKE, wake);
          if (wait.async) await wait.value;
        }
        Atomics.store(i32, SLEEP, 0);
      }
    };
    return {
      drain,
      start() {
        loop();
      },
      block(ms, receivedAside, beforeWait) {
        // What a drain hands over is handled after this returns: no wait then.
        if (drain() > 0) return true;
        Atomics.store(i32, SLEEP, 2);
        // Said blocked before the writer on the other side is woken: its next message then wakes
        // this thread directly, not this side's event loop.
        beforeWait?.();
        const head = Atomics.load(i32, HEAD);
        let woken = true;
        if (Atomics.load(i32, ASIDE) === receivedAside && Atomics.load(i32, CLOSED) === 0) {
          woken = Atomics.wait(i32, TAIL, head, ms) !== "timed-out";
        }
        // Back to the asynchronous loop's state: it is still waiting on WAKE.
        Atomics.store(i32, SLEEP, 1);
        drain();
        return woken;
      },
      close() {
        Atomics.store(i32, CLOSED, 1);
        Atomics.add(i32, WAKE, 1);
        Atomics.notify(i32, WAKE);
        Atomics.notify(i32, TAIL);
      },
    };
  };

  return { create, writer, reader };
}
