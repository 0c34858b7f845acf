/**
 * The worker pool's transport: a module Web Worker spoken to with
 * `postMessage`, and the calls that cross to it. Values go by structured
 * clone (buffers wrapped with `transfer()` move instead); exceptions come
 * back in the value codec.
 *
 * How a worker ends, and how the pool learns of it:
 * - an error thrown, or a rejection left unhandled, outside any call: the
 *   worker posts it (`fault`), then the runtime fires the worker's `error`
 *   event, whose default (ending this process under Deno) is prevented;
 *   either breaks the pool, with the worker's error as `cause`;
 * - `self.close()`, `Deno.exit()`, `process.exit()` in the worker: it posts
 *   `closing` first, since Deno fires no event for it; Bun's `close` event
 *   covers the rest;
 * - `terminate()`, by the pool: no runtime reports reliably when the thread
 *   is gone (Deno has no event; Bun skips `close` for an unref'd worker),
 *   so the worker is reported gone at once.
 *
 * @module
 */
import type { Future } from "../future/future.ts";
import { DataCloneError, decode } from "../workers/_codec.ts";
import type {
  WebParentMessage,
  WebWorkerMessage,
} from "../workers/_web_protocol.ts";
import type { BatchOutcome } from "./_map.ts";
import { currentRuntime } from "./_runtime.ts";
import type {
  EngineItem,
  EngineWorker,
  WorkerListener,
} from "./_worker_pool_engine.ts";
import { type FunctionShipping, refFor } from "./_function_shipping.ts";
import {
  encodeArgs,
  remoteError,
  withClosureHint,
} from "./_process_transport.ts";

type AnyFunction = (...args: never[]) => unknown;

/** What a batch carries besides its argument lists. */
interface BatchState {
  /** The items that failed here (their arguments cannot be cloned), by
   * index; the worker is sent the others. */
  readonly failures: Map<number, unknown>;
}

/**
 * One submitted call, or one batch of calls of `map({ chunksize })`.
 */
export class WebCall implements EngineItem {
  readonly future: Future<unknown>;
  readonly fn: AnyFunction;
  /** The arguments; for a batch, one argument list per item. */
  readonly args: unknown[];
  /** Buffers that move with the arguments instead of being copied. */
  readonly transfer: Transferable[] | undefined;
  readonly batch: BatchState | undefined;
  /** Whether `fn` went by source, so that a ReferenceError gets the hint. */
  bySource = false;

  constructor(
    future: Future<unknown>,
    fn: AnyFunction,
    args: unknown[],
    transfer: Transferable[] | undefined,
    batch?: BatchState,
  ) {
    this.future = future;
    this.fn = fn;
    this.args = args;
    this.transfer = transfer;
    this.batch = batch;
  }

  /** The argument lists the worker is sent (a batch's, less its failures). */
  sentArgs(): unknown[] {
    const failures = this.batch?.failures;
    if (failures === undefined || failures.size === 0) return this.args;
    return this.args.filter((_, i) => !failures.has(i));
  }

  get calls(): number {
    return this.batch === undefined ? 1 : this.args.length;
  }

  /** Settles the future with the worker's answer.
   * @returns How many calls failed. */
  settle(ok: boolean, payload: unknown): number {
    try {
      if (!ok) {
        this.future.setException(this.#rebuild(decode(payload)));
        return this.calls;
      }
      if (this.batch === undefined) {
        this.future.setResult(payload);
        return 0;
      }
      const remote = payload as [boolean, unknown][];
      let failed = this.batch.failures.size;
      for (const outcome of remote) {
        if (outcome[0]) continue;
        outcome[1] = this.#rebuild(decode(outcome[1]));
        failed++;
      }
      this.future.setResult(merge(remote, this.args.length, this.batch));
      return failed;
    } catch (error) {
      // A malformed answer fails this call only.
      if (!this.future.done()) this.future.setException(error);
      return this.calls;
    }
  }

  #rebuild(error: unknown): unknown {
    return this.bySource
      ? withClosureHint(remoteError(error), this.fn)
      : remoteError(error);
  }
}

/** A batch's outcomes: the worker's, for the items sent, around the local
 * failures. The worker's array is reused when nothing failed here. */
function merge(
  remote: [boolean, unknown][],
  size: number,
  batch: BatchState,
): BatchOutcome<unknown>[] {
  const { failures } = batch;
  if (failures.size === 0) return remote as BatchOutcome<unknown>[];
  const outcomes: BatchOutcome<unknown>[] = [];
  let next = 0;
  for (let i = 0; i < size; i++) {
    outcomes.push(
      failures.has(i)
        ? [false, failures.get(i)]
        : remote[next++] as BatchOutcome<unknown>,
    );
  }
  return outcomes;
}

/**
 * The error for arguments that structured clone rejected: the codec's,
 * which names the culprit (`argument 2 → .cb: function cannot be sent`),
 * else one carrying the runtime's message.
 *
 * @param args The argument list.
 * @param error What `postMessage` or `structuredClone` threw.
 * @returns A `DataCloneError`.
 */
export function argumentsError(
  args: readonly unknown[],
  error: unknown,
): unknown {
  try {
    encodeArgs(args);
  } catch (precise) {
    if (precise instanceof DataCloneError) return precise;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new DataCloneError(`the arguments cannot be sent: ${reason}`, {
    cause: error,
  });
}

/** What every worker of one pool is started with. */
export interface WebWorkerSetup {
  /** The runtime's `Worker`, from {@linkcode workerClass}. */
  readonly Worker: WorkerClass;
  /** The worker entry, `workers/web_worker.ts`. */
  readonly entry: URL;
  /** The `Worker` options: `type: "module"`, and `deno.permissions`. */
  readonly options: WorkerOptions;
  readonly shipping: FunctionShipping;
  /** The first message: modules, initializer and its arguments; none
   * when there are neither (the worker is ready as it starts). */
  readonly init: (WebParentMessage & { t: "init" }) | undefined;
  /** The initializer's source key, which `init` delivers. */
  readonly initKey: number | undefined;
  /** The initializer, when it goes by source (for the closure hint). */
  readonly initBySource: AnyFunction | undefined;
}

/** A Web Worker class: the global `Worker`, or Node's stand-in. */
export type WorkerClass = new (url: URL, options: WorkerOptions) => Worker;

/**
 * The runtime's Web Worker class. Node has none: it gets a
 * `node:worker_threads` Worker behind the same API.
 *
 * @returns The class.
 */
export function workerClass(): Promise<WorkerClass> {
  if (currentRuntime !== "node") return Promise.resolve(Worker);
  return import("./_node_worker.ts").then((module) =>
    module.NodeWorker as unknown as WorkerClass
  );
}

/** The `ref()`/`unref()` that Bun's `Worker` has and Deno's lacks. */
interface Referable {
  ref?(): void;
  unref?(): void;
}

let workers = 0;

/** A Web Worker, for the engine. */
export class WebWorker implements EngineWorker<WebCall> {
  readonly #worker: Worker;
  readonly #listener: WorkerListener;
  readonly #shipping: FunctionShipping;
  readonly #initBySource: AnyFunction | undefined;
  /** "worker 3", in messages. */
  readonly #name: string;
  /** The source keys this worker has been sent. */
  readonly #sent = new Set<number>();
  #messages: WebParentMessage[] = [];
  #calls: WebCall[] = [];
  #transfer: Transferable[] = [];
  #faulted = false;
  #ended = false;

  /**
   * Starts a worker and posts its `init` message.
   *
   * @throws {Error} When the worker cannot be created (e.g. permissions
   * beyond the parent's) or `init` cannot be cloned.
   */
  constructor(setup: WebWorkerSetup, listener: WorkerListener) {
    this.#listener = listener;
    this.#shipping = setup.shipping;
    this.#initBySource = setup.initBySource;
    this.#name = `worker ${++workers}`;
    const worker = new setup.Worker(setup.entry, {
      ...setup.options,
      name: `WorkerPoolExecutor ${this.#name}`,
    });
    this.#worker = worker;
    worker.onmessage = this.#onMessage;
    worker.addEventListener("error", this.#onError);
    worker.addEventListener("messageerror", this.#onMessageError);
    worker.addEventListener("close", this.#onClose);
    if (setup.init === undefined) {
      // Nothing to wait for: the calls sent meanwhile wait in the worker.
      queueMicrotask(() => {
        if (!this.#ended) listener.ready();
      });
      return;
    }
    try {
      worker.postMessage([setup.init]);
    } catch (error) {
      worker.terminate();
      throw error;
    }
    if (setup.initKey !== undefined) this.#sent.add(setup.initKey);
  }

  send(id: number, call: WebCall): void {
    const fn = refFor(this.#shipping.ship(call.fn), this.#sent);
    if ("k" in fn) {
      call.bySource = true;
      this.#sent.add(fn.k);
    }
    this.#messages.push(
      call.batch === undefined
        ? { t: "call", id, fn, args: call.args }
        : { t: "batch", id, fn, args: call.sentArgs() as unknown[][] },
    );
    this.#calls.push(call);
    if (call.transfer !== undefined) {
      for (const buffer of call.transfer) this.#transfer.push(buffer);
    }
  }

  flush(): void {
    if (this.#messages.length === 0) return;
    const messages = this.#messages;
    const calls = this.#calls;
    const moving = this.#transfer.length > 0;
    this.#messages = [];
    this.#calls = [];
    this.#transfer = [];
    // Ended, and soon reported gone: the engine fails what it sent.
    if (this.#ended) return;
    if (!moving) return this.#post(messages, calls, 0, messages.length);
    // Under Deno, a postMessage that fails detaches the buffers of its
    // transfer list all the same: a call whose buffers move goes alone
    // (its arguments were cloned at submit: it cannot fail), and the others
    // in runs between such calls.
    let start = 0;
    for (let i = 0; i < messages.length; i++) {
      const moved = calls[i].transfer;
      if (moved === undefined) continue;
      this.#post(messages, calls, start, i);
      this.#worker.postMessage([messages[i]], moved);
      start = i + 1;
    }
    this.#post(messages, calls, start, messages.length);
  }

  /** Posts `messages[start..end)` in one message, or one by one when some
   * argument cannot be cloned, to fail that call only. */
  #post(
    messages: WebParentMessage[],
    calls: WebCall[],
    start: number,
    end: number,
  ): void {
    if (start === end) return;
    const run = end - start === messages.length
      ? messages
      : messages.slice(start, end);
    try {
      this.#worker.postMessage(run);
    } catch {
      for (let i = start; i < end; i++) this.#postAlone(messages[i], calls[i]);
    }
  }

  close(): void {
    this.#end(`${this.#name} was closed`);
  }

  kill(): void {
    this.#end(`${this.#name} was terminated`);
  }

  hold(held: boolean): void {
    const worker = this.#worker as Referable;
    if (held) worker.ref?.();
    else worker.unref?.();
  }

  #postAlone(message: WebParentMessage, call: WebCall): void {
    if (message.t !== "call" && message.t !== "batch") return;
    try {
      this.#worker.postMessage([message]);
      return;
    } catch (error) {
      if (message.t === "call") {
        call.future.setException(argumentsError(call.args, error));
      } else if (this.#postSendable(message, call)) return;
    }
    // The worker answers in order: it must still answer this id.
    const fn = "src" in message.fn ? message.fn : undefined;
    this.#worker.postMessage([{ t: "skip", id: message.id, fn }]);
  }

  /** Fails the items of a batch whose arguments cannot be cloned and posts
   * the others; returns whether it posted any. */
  #postSendable(
    message: WebParentMessage & { t: "batch" },
    call: WebCall,
  ): boolean {
    const failures = call.batch!.failures;
    call.args.forEach((args, i) => {
      if (failures.has(i)) return;
      try {
        structuredClone(args);
      } catch (error) {
        failures.set(i, argumentsError(args as unknown[], error));
      }
    });
    const args = call.sentArgs() as unknown[][];
    if (args.length > 0) {
      try {
        this.#worker.postMessage([{ ...message, args }]);
        return true;
      } catch (error) {
        call.future.setException(error);
        return false;
      }
    }
    call.future.setResult(
      call.args.map((_, i) => [false, failures.get(i)] as const),
    );
    return false;
  }

  readonly #onMessage = (event: MessageEvent): void => {
    const listener = this.#listener;
    for (const message of event.data as WebWorkerMessage[]) {
      if (this.#ended) return;
      switch (message.t) {
        case "ok":
          listener.answered(message.id, true, message.value);
          break;
        case "err":
          listener.answered(message.id, false, message.error);
          break;
        case "ready":
          listener.ready();
          break;
        case "init-failed":
          listener.initFailed(this.#initError(message.error), message.stage);
          break;
        case "fault":
          this.#fault(
            message.what === "error"
              ? "threw an uncaught error outside any task"
              : "left a promise rejection unhandled outside any task",
            message.raw ? message.error : remoteErrorOf(message.error),
          );
          break;
        case "closing":
          this.#end(`${this.#name} closed itself with ${message.how}`);
          break;
        default:
          this.#fault(
            `sent a message the pool does not know: ${
              JSON.stringify(message).slice(0, 200)
            }`,
          );
      }
    }
    if (!this.#ended) listener.idle();
  };

  /** An error that no `fault` message announced (e.g. the entry failed to
   * load). Its default, under Deno, would end this process. */
  readonly #onError = (event: ErrorEvent): void => {
    event.preventDefault();
    const where = event.filename ? ` (${event.filename}:${event.lineno})` : "";
    this.#fault(
      "threw an uncaught error",
      event.error ?? new Error(`${event.message}${where}`),
    );
  };

  readonly #onMessageError = (event: MessageEvent): void => {
    this.#fault(
      "sent a message that could not be deserialized",
      event.data ?? undefined,
    );
  };

  /** Bun's: the worker's thread ended. Calls to `terminate()` report
   * before it comes, so only an exit the worker could not announce gets
   * here. */
  readonly #onClose = (event: Event): void => {
    const code = (event as Event & { code?: number }).code;
    this.#end(`${this.#name} exited with code ${code}`);
  };

  /** Breaks the pool for a worker that misbehaved, once. */
  #fault(what: string, cause?: unknown): void {
    if (this.#faulted || this.#ended) return;
    this.#faulted = true;
    const reason = cause instanceof Error ? `: ${cause.message}` : "";
    this.#listener.failed(`${this.#name} ${what}${reason}`, cause);
    // The engine ends every worker of a pool it breaks; this one in any case.
    this.#end(`${this.#name} failed`);
  }

  /** Ends the thread, and reports it gone (in a microtask: the engine may
   * be iterating its workers). */
  #end(how: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#worker.terminate();
    queueMicrotask(() => this.#listener.exited(how));
  }

  #initError(wire: unknown): unknown {
    const error = remoteErrorOf(wire);
    const init = this.#initBySource;
    return init === undefined ? error : withClosureHint(error, init);
  }
}

/** A worker's exception, rebuilt from its wire, with its stack as cause. */
function remoteErrorOf(wire: unknown): unknown {
  try {
    return remoteError(decode(wire));
  } catch (error) {
    return error;
  }
}
