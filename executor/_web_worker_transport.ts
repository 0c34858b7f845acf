/**
 * The worker pool's transport: a module Web Worker spoken to with
 * `postMessage`. Values go by structured clone (buffers wrapped with
 * `transfer()` move instead); exceptions come back in the value codec.
 *
 * How a worker ends, and how the pool learns of it:
 * - an error thrown, or a rejection left unhandled, outside any call: the
 *   worker posts it (`fault`) and keeps the runtime from reporting it too;
 *   the pool breaks, with the worker's error as `cause`, and ends it. The
 *   worker's `error` event (whose default, ending this process under Deno,
 *   is prevented) breaks the pool for the faults that no message announced:
 *   the entry failed to load, or the fault could not be posted;
 * - `self.close()`, `Deno.exit()`, `process.exit()` in the worker: it posts
 *   `closing` first, since Deno fires no event for it; Bun's `close` event
 *   covers the rest;
 * - `terminate()`, by the pool: no runtime reports reliably when the thread
 *   is gone (Deno has no event; Bun skips `close` for an unref'd worker),
 *   so the worker is reported gone at once.
 *
 * @module
 */
import { DataCloneError, decode } from "../workers/_codec.ts";
import type {
  WebParentMessage,
  WebWorkerMessage,
} from "../workers/_web_protocol.ts";
import { movePacked, packNumbers } from "../workers/_number_column.ts";
import { currentRuntime } from "../workers/_runtime.ts";
import type { EngineWorker, WorkerListener } from "./_worker_transport.ts";
import { type FunctionShipping, refFor } from "./_function_shipping.ts";
import {
  encodeArgs,
  type RemoteCall,
  remoteError,
  sendableBatch,
  withClosureHint,
} from "./_remote_call.ts";

type AnyFunction = (...args: never[]) => unknown;

/** A call or a batch, as posted. */
type CallMessage = WebParentMessage & { t: "call" | "batch" };

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
 * The Worker class a pool uses: Bun's Web Worker, which can be unref'd;
 * elsewhere a `node:worker_threads` Worker behind the same API (Node has no
 * Web Worker; Deno's cannot be unref'd, so that a pool left without
 * `shutdown()` would keep the program alive, nor stopped in a busy loop),
 * except for Deno workers given permissions of their own, which only
 * Deno's Web Worker takes.
 *
 * @param permissions Whether the workers get Deno permissions of their own.
 * @returns The class.
 */
export function workerClass(permissions = false): Promise<WorkerClass> {
  if (currentRuntime === "bun" || permissions) return Promise.resolve(Worker);
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
export class WebWorker implements EngineWorker<RemoteCall> {
  readonly #worker: Worker;
  readonly #listener: WorkerListener;
  readonly #shipping: FunctionShipping;
  readonly #initBySource: AnyFunction | undefined;
  /** "worker 3", in messages. */
  readonly #name: string;
  /** The source keys this worker has been sent. */
  readonly #sent = new Set<number>();
  #messages: CallMessage[] = [];
  #calls: RemoteCall[] = [];
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

  send(id: number, call: RemoteCall): void {
    const fn = refFor(this.#shipping.ship(call.fn), this.#sent);
    if ("k" in fn) {
      call.bySource = true;
      this.#sent.add(fn.k);
    }
    const message = call.batch === undefined
      ? { t: "call", id, fn, args: call.args }
      : {
        t: "batch",
        id,
        fn,
        args: (call.args as unknown[][]).map(packNumbers),
      };
    this.#messages.push(message as CallMessage);
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
    messages: CallMessage[],
    calls: RemoteCall[],
    start: number,
    end: number,
  ): void {
    if (start === end) return;
    const run = end - start === messages.length
      ? messages
      : messages.slice(start, end);
    try {
      this.#worker.postMessage(run, movedColumns(run));
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

  /** Posts one call of a run that could not be posted whole. A call that
   * cannot be cloned fails; a batch loses the items that cannot. */
  #postAlone(message: CallMessage, call: RemoteCall): void {
    // An earlier call of the run may have failed to deliver this source.
    if ("k" in message.fn && !this.#sent.has(message.fn.k)) {
      message.fn = this.#shipping.ship(call.fn);
    }
    if (message.t === "batch") this.#dropUncloneable(message, call);
    try {
      this.#worker.postMessage([message]);
    } catch (error) {
      if ("src" in message.fn) this.#sent.delete(message.fn.k);
      return this.#listener.callFailed(
        message.id,
        argumentsError(message.args as unknown[], error),
      );
    }
    if ("k" in message.fn) this.#sent.add(message.fn.k);
  }

  /** Fails the items of a batch whose arguments cannot be cloned, and
   * leaves the others in its columns. */
  #dropUncloneable(message: CallMessage, call: RemoteCall): void {
    const sent = sendableBatch(message.args as unknown[][], (row) => {
      try {
        structuredClone(row);
      } catch (error) {
        throw argumentsError(row, error);
      }
    });
    // Back to the batch's own numbering: the worker was sent those not
    // failed here already.
    const failures = call.batch!.failures;
    let i = 0;
    for (let item = 0; item < call.batch!.size; item++) {
      if (failures.has(item)) continue;
      if (sent.batch.failures.has(i)) {
        failures.set(item, sent.batch.failures.get(i));
      }
      i++;
    }
    message.args = sent.columns;
    call.args = sent.columns;
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
          this.#answerWith(message.id, () => [false, decode(message.error)]);
          break;
        case "batch":
          this.#answerWith(message.id, () => {
            const failures = message.failures?.slice();
            for (
              let k = 1;
              failures !== undefined && k < failures.length;
              k += 2
            ) {
              failures[k] = decode(failures[k]);
            }
            return [true, [message.values, failures]];
          });
          break;
        case "busy":
          listener.worked(message.ms);
          break;
        case "ready":
          listener.ready();
          break;
        case "init-failed":
          listener.initFailed(
            this.#initError(message.error),
            message.stage,
            message.module,
          );
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
    if (!this.#ended) listener.answersRead();
  };

  /** Reports the answer `read()` decodes, or that it cannot be read. */
  #answerWith(id: number, read: () => [boolean, unknown]): void {
    let answer: [boolean, unknown];
    try {
      answer = read();
    } catch (error) {
      return this.#listener.callFailed(id, error);
    }
    this.#listener.answered(id, answer[0], answer[1]);
  }

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
    this.#end(`${this.#name} exited with code ${code}`, code ?? null);
  };

  /** Breaks the pool for a worker that misbehaved, once. */
  #fault(what: string, cause?: unknown): void {
    if (this.#faulted || this.#ended) return;
    this.#faulted = true;
    const reason = cause instanceof Error ? `: ${cause.message}` : "";
    this.#listener.misbehaved(`${this.#name} ${what}${reason}`, cause);
    // The engine ends every worker of a pool it breaks; this one in any case.
    this.#end(`${this.#name} failed`);
  }

  /** Ends the thread, and reports it gone (in a microtask: the engine may
   * be iterating its workers). */
  #end(how: string, exitCode: number | null = null): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#worker.terminate();
    const exit = { how, exitCode, signal: null, stderr: "" };
    queueMicrotask(() => this.#listener.exited(exit));
  }

  #initError(wire: unknown): unknown {
    const error = remoteErrorOf(wire);
    const init = this.#initBySource;
    return init === undefined ? error : withClosureHint(error, init);
  }
}

/** The buffers of a run's columns, which move, when every column is packed
 * (see `_number_column.ts`): nothing in the run can then fail to clone. */
function movedColumns(run: CallMessage[]): ArrayBuffer[] {
  const moved: ArrayBuffer[] = [];
  for (const message of run) {
    if (message.t !== "batch") return [];
    for (const column of message.args) {
      if (!movePacked(column, moved)) return [];
    }
  }
  return moved;
}

/** A worker's exception, rebuilt from its wire, with its stack as cause. */
function remoteErrorOf(wire: unknown): unknown {
  try {
    return remoteError(decode(wire));
  } catch (error) {
    return error;
  }
}
