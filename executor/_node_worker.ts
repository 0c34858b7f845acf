/**
 * The worker pool's thread under Node, which has no `Worker` global, and
 * under Deno (see `workerClass()`): a `node:worker_threads` Worker behind
 * the part of the Web Worker API the pool uses (`postMessage`,
 * `terminate`, `onmessage`, the `error`, `messageerror` and `close` events,
 * and Bun's `ref()` and `unref()`).
 *
 * @module
 */
import { Worker as Thread } from "node:worker_threads";

/** A `node:worker_threads` Worker that looks like a Web Worker. */
export class NodeWorker extends EventTarget {
  /** Called with each message the worker posts. */
  onmessage: ((event: MessageEvent) => void) | null = null;
  readonly #thread: Thread;

  /**
   * Starts the worker thread.
   *
   * @param url The worker's module.
   * @param options Only `name` counts: the rest is for Web Workers.
   */
  constructor(url: URL, options: WorkerOptions = {}) {
    super();
    const thread = new Thread(url, { name: options.name });
    this.#thread = thread;
    // The pool reads only `data`: no MessageEvent is built per message.
    thread.on("message", (data: unknown) => {
      this.onmessage?.({ data } as MessageEvent);
    });
    thread.on("error", (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      const event = new Event("error", { cancelable: true });
      this.dispatchEvent(Object.assign(event, { error, message }));
    });
    thread.on("messageerror", (error: unknown) => {
      this.dispatchEvent(
        Object.assign(new Event("messageerror"), { data: error }),
      );
    });
    thread.on("exit", (code: number) => {
      this.dispatchEvent(Object.assign(new Event("close"), { code }));
    });
  }

  /** Posts `message`, moving the `transfer` buffers. */
  postMessage(message: unknown, transfer?: Transferable[]): void {
    // Node's own `Transferable` type names the same buffers and ports.
    this.#thread.postMessage(message, transfer as never);
  }

  /** Stops the thread; `close` follows once it is gone. */
  terminate(): void {
    void this.#thread.terminate();
  }

  /** Lets the thread keep this process alive. */
  ref(): void {
    this.#thread.ref();
  }

  /** Stops the thread from keeping this process alive. */
  unref(): void {
    this.#thread.unref();
  }
}
