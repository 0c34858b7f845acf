/**
 * Writing to a Bun `FileSink` (a child's stdin, a worker's stdout) in order,
 * with one flush per turn of the event loop, so that everything written in
 * a turn leaves in one write.
 *
 * A chunk larger than a slice goes out slice by slice, each written once the
 * last one is flushed: a sink handed 64 MiB while the pipe is full keeps a
 * copy of all of it, which costs as much memory again as the data.
 *
 * @module
 */

/** The part of Bun's `FileSink` used here. */
export interface FileSink {
  /** A promise when the bytes could not all be written at once. */
  write(chunk: string | ArrayBufferView): number | Promise<number>;
  flush(): number | Promise<number>;
  end(): number | Promise<number>;
}

/** Above this, a chunk is written in slices of this size. */
const SLICE_BYTES = 1024 * 1024;

const utf8 = new TextEncoder();

/** Writes chunks to a sink in order; see the module documentation. */
export class OrderedSink {
  readonly #sink: FileSink;
  /** Chunks waiting behind a large one; empty unless pumping. */
  #queue: Uint8Array[] = [];
  #pumping: Promise<void> | undefined;
  #flushQueued = false;
  #broken = false;
  readonly #onBroken: () => void;

  /**
   * Wraps `sink`, which nothing else may write to.
   *
   * @param sink The sink.
   * @param onBroken Called once, when a write fails.
   */
  constructor(sink: FileSink, onBroken: () => void = () => {}) {
    this.#sink = sink;
    this.#onBroken = onBroken;
  }

  /** Whether a write failed: the reader is gone. */
  get broken(): boolean {
    return this.#broken;
  }

  /** Writes `bytes` (UTF-8 for a string), which must not change until
   * written. Never throws: a failure marks the sink broken, and later bytes
   * are dropped. */
  write(bytes: Uint8Array | string): void {
    if (this.#broken || bytes.length === 0) return;
    if (typeof bytes === "string") bytes = utf8.encode(bytes);
    if (this.#pumping !== undefined || bytes.length > SLICE_BYTES) {
      this.#queue.push(bytes);
      this.#pumping ??= this.#pump();
      return;
    }
    this.#settle(() => this.#sink.write(bytes));
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      if (!this.#broken) this.#settle(() => this.#sink.flush());
    });
  }

  /** Ends the sink once every chunk written so far is out. */
  async end(): Promise<void> {
    await this.#pumping;
    if (this.#broken) return;
    try {
      await this.#sink.end();
    } catch {
      this.#break();
    }
  }

  async #pump(): Promise<void> {
    try {
      for (let i = 0; i < this.#queue.length; i++) {
        const bytes = this.#queue[i];
        for (let at = 0; at < bytes.length; at += SLICE_BYTES) {
          this.#sink.write(bytes.subarray(at, at + SLICE_BYTES));
          await this.#sink.flush();
        }
      }
    } catch {
      this.#break();
    } finally {
      this.#queue = [];
      this.#pumping = undefined;
    }
  }

  #break(): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#onBroken();
  }

  /** Runs a sink call; a failure, now or later, means the reader is gone. */
  #settle(call: () => number | Promise<number>): void {
    try {
      const result = call();
      if (result instanceof Promise) {
        result.catch(() => this.#break());
      }
    } catch {
      this.#break();
    }
  }
}
