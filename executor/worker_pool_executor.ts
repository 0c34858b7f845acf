/**
 * `WorkerPoolExecutor`: calls run in long-lived module Web Workers, real
 * threads of this process, for CPU-bound work that must not block the
 * event loop. Python 3.14's `InterpreterPoolExecutor`, for Deno and Bun.
 *
 * @module
 */
import { Future } from "../future/future.ts";
import { BrokenWorkerPool } from "../future/errors.ts";
import {
  isTransfer,
  TRANSFER,
  type TransferMarker,
} from "../workers/_dispatch.ts";
import {
  Executor,
  type ExecutorStats,
  type ShutdownOptions,
} from "./executor.ts";
import type { BatchOutcome } from "./_map.ts";
import type { RunOptions } from "./_call_limits.ts";
import {
  checkInitializer,
  checkMaxTasksPerChild,
  checkMaxWorkers,
  checkOnWorkerDeath,
  cpuCount,
} from "./_options.ts";
import { workerEntry } from "./_entry.ts";
import { requireRuntime } from "./_runtime.ts";
import type { WorkerPermissions } from "./_spawn.ts";
import { FunctionShipping, moduleUrl } from "./_function_shipping.ts";
import {
  argumentsError,
  WebCall,
  WebWorker,
  type WebWorkerSetup,
  type WorkerClass,
  workerClass,
} from "./_web_worker_transport.ts";
import {
  checkEntryReadable,
  workerPermissions,
} from "./_worker_permissions.ts";
import {
  type BreakReason,
  type EngineHost,
  type OnWorkerDeath,
  WorkerPoolEngine,
} from "./_worker_pool_engine.ts";

export type { PermissionGrant, WorkerPermissions } from "./_spawn.ts";
export type { DenoPermissionName } from "./_runtime.ts";

/** The options of `new WorkerPoolExecutor()`. */
export interface WorkerPoolExecutorOptions {
  /**
   * How many worker threads may run at once; they start on demand.
   * @default {navigator.hardwareConcurrency}
   */
  maxWorkers?: number;
  /**
   * Called (sync or async) in each worker before its first call; if it
   * throws, the pool is broken. Sent like a submitted function: by
   * reference when it is an export of `modules`, else by source.
   * @default {undefined}
   */
  // deno-lint-ignore no-explicit-any
  initializer?: (...args: any[]) => unknown;
  /**
   * The arguments of `initializer`, sent by structured clone.
   * @default {[]}
   */
  initargs?: readonly unknown[];
  /**
   * How many calls a worker runs before it is ended and replaced (a batch
   * of `map({ chunksize })` counts as one).
   * @default {undefined} workers live as long as the pool
   */
  maxTasksPerChild?: number;
  /**
   * Modules every worker imports at start, as URLs or paths (relative
   * paths resolve against the current directory). A function exported by
   * one of them is sent by reference, so it may use its module's imports
   * and variables.
   * @default {[]}
   */
  modules?: readonly (string | URL)[];
  /**
   * The Deno permissions of the workers, in the shape of
   * `Deno.PermissionOptions` (relative paths resolve against the current
   * directory; a name left out is not granted); ignored under Bun.
   * Anything but `"inherit"` needs Deno's `--unstable-worker-options` flag
   * (or `"unstable": ["worker-options"]` in deno.json): without it the
   * constructor throws, where it can tell (Linux), since Deno would end the
   * program at the first worker.
   * @default {"inherit"} the permissions the parent holds
   */
  permissions?: WorkerPermissions;
  /**
   * What the end of a worker thread that owes answers does: `"break"`
   * breaks the pool, as in CPython; `"replace"` fails the call it was
   * running with `WorkerDiedError`, sends its other calls to a new worker
   * and goes on, unless 5 workers end within 10 s, which breaks the pool.
   * @default {"break"}
   */
  onWorkerDeath?: OnWorkerDeath;
}

const ENTRY = workerEntry("web_worker");

/** The opening of each `BrokenWorkerPool` message, by cause. */
const BROKEN: Readonly<Record<BreakReason, string>> = {
  start: "The worker pool cannot start its workers",
  modules:
    "A worker could not import the pool's modules, the worker pool is not usable anymore",
  initializer:
    "A worker initializer failed, the worker pool is not usable anymore",
  protocol:
    "A worker thread of the worker pool failed, the worker pool is not usable anymore",
  died:
    "A worker thread of the worker pool ended abruptly while the future was running or pending",
  terminated:
    "A worker thread of the worker pool was terminated by terminateWorkers() or killWorkers() while the future was running",
};

/**
 * Marks an argument (or a worker's result) whose `buffers` move to the
 * other thread instead of being copied: a 64 MB `ArrayBuffer` crosses in
 * microseconds, and is detached here (`byteLength` 0) as soon as the call
 * is submitted.
 *
 * @typeParam T The value's type.
 * @param value The value to send; `buffers` must be reachable from it.
 * @param buffers The `ArrayBuffer`s (or other transferables) to move.
 * @returns A marker that `submit()` and `map()` unwrap: the function
 * receives `value`. A task may return one too, to move its result's buffers
 * back.
 *
 * @example Moving a buffer to a worker
 * ```ts
 * import { transfer, WorkerPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
 * const bytes = new Uint8Array(1024).fill(7);
 * const sum = pool.submit(
 *   (data: Uint8Array) => data.reduce((a, b) => a + b, 0),
 *   transfer(bytes, [bytes.buffer]),
 * );
 * console.assert(bytes.byteLength === 0); // moved, not copied
 * console.assert((await sum) === 7 * 1024);
 * ```
 */
export function transfer<T>(
  value: T,
  buffers: readonly Transferable[],
): T {
  if (!Array.isArray(buffers)) {
    throw new TypeError("transfer() needs an array of buffers to move");
  }
  const marker: TransferMarker<T> = { [TRANSFER]: true, value, buffers };
  // Typed as the value, so that `submit(fn, transfer(x, …))` checks `x`
  // against `fn`'s parameter.
  return marker as unknown as T;
}

/**
 * Runs calls in long-lived module Web Workers, real threads of this
 * process, at most `maxWorkers` at a time: parallelism for CPU-bound work
 * without the start-up cost and the pipe of a process pool. Arguments and
 * results travel by structured clone; `ArrayBuffer`s wrapped with
 * {@linkcode transfer} move instead of being copied.
 *
 * A function reaches the workers by reference when it is an export of one
 * of `modules`, else by its source text, compiled once per worker: such a
 * function must be self-contained (parameters and globals only).
 *
 * Under Deno, a `Worker` always holds the event loop open: call
 * `shutdown()` (or use `await using`) for the program to exit. Under Bun,
 * idle workers let the program exit.
 *
 * @example Squaring numbers in two worker threads
 * ```ts
 * import { WorkerPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new WorkerPoolExecutor({ maxWorkers: 2 });
 * const squares = [];
 * for await (const y of pool.map((x: number) => x * x, [1, 2, 3])) {
 *   squares.push(y);
 * }
 * console.assert(squares.join() === "1,4,9");
 * ```
 */
export class WorkerPoolExecutor extends Executor {
  readonly #maxWorkers: number;
  readonly #engine: WorkerPoolEngine<WebCall>;
  readonly #shipping = new FunctionShipping();
  readonly #modules: string[];
  readonly #options: WorkerOptions;
  readonly #initializer: ((...args: unknown[]) => unknown) | undefined;
  readonly #initargs: readonly unknown[];
  #setup: WebWorkerSetup | undefined;

  /**
   * Creates a pool; worker threads start on demand.
   *
   * @param options See {@linkcode WorkerPoolExecutorOptions}.
   * @throws {RangeError} `maxWorkers must be greater than 0`, or
   * `maxTasksPerChild must be >= 1`.
   * @throws {TypeError} `initializer must be a function`, or an option of
   * the wrong type.
   * @throws {Error} On a runtime that is none of Deno, Bun and Node 22 or
   * later; under Deno,
   * for `permissions` without `--unstable-worker-options`, or when this
   * process may not read the worker modules.
   *
   * @example
   * ```ts
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new WorkerPoolExecutor({ maxWorkers: 2 });
   * console.assert(pool.maxWorkers === 2);
   * ```
   */
  constructor(options: WorkerPoolExecutorOptions = {}) {
    super();
    requireRuntime("WorkerPoolExecutor");
    // One thread per core: more only adds switching for CPU-bound work.
    this.#maxWorkers = checkMaxWorkers(options.maxWorkers, cpuCount());
    checkInitializer(options.initializer);
    this.#initializer = options.initializer;
    this.#initargs = options.initargs ?? [];
    const maxTasksPerChild = checkMaxTasksPerChild(options.maxTasksPerChild);
    this.#modules = (options.modules ?? []).map(moduleUrl);
    const permissions = workerPermissions(options.permissions);
    checkEntryReadable(ENTRY);
    this.#options = permissions === undefined
      ? { type: "module" }
      : { type: "module", deno: { permissions } } as WorkerOptions;
    this.#engine = new WorkerPoolEngine(this.#host(), {
      maxWorkers: this.#maxWorkers,
      maxTasksPerChild,
      onWorkerDeath: checkOnWorkerDeath(options.onWorkerDeath),
    });
  }

  /**
   * How many worker threads may run at once.
   *
   * @example
   * ```ts
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new WorkerPoolExecutor();
   * console.assert(pool.maxWorkers === navigator.hardwareConcurrency);
   * ```
   */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  /**
   * The pool's load; see `Executor.stats()`. `workers` are the Web Workers
   * alive, starting and closing ones included; `running` counts the calls
   * sent to them and not yet answered, which includes the short calls a
   * worker is sent ahead of time.
   *
   * @returns The counts of workers and calls.
   *
   * @example
   * ```ts
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new WorkerPoolExecutor({ maxWorkers: 2 });
   * await pool.submit((n: number) => n + 1, 1);
   * const { workers, completed, queued } = pool.stats();
   * console.assert(workers === 1 && completed === 1 && queued === 0);
   * ```
   */
  stats(): ExecutorStats {
    return this.#engine.stats();
  }

  /**
   * Schedules `fn(...args)` in a worker thread and returns its future at
   * once. The arguments are cloned when the call is sent to a worker (at
   * the end of this turn at the earliest, as CPython pickles a call when it
   * queues it for a process); those wrapped with {@linkcode transfer} are
   * taken, and their buffers detached, now.
   *
   * @typeParam A The argument types.
   * @typeParam R The return type of `fn`.
   * @param fn A sync or async function: an export of `modules`, or a
   * self-contained function (sent by source).
   * @param args Its arguments: values structured clone accepts.
   * @returns The future of the call's awaited result. An argument or a
   * result that structured clone rejects, or a native or bound function,
   * fails this future only (`DataCloneError`).
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {BrokenWorkerPool} Once the pool is broken.
   *
   * @example
   * ```ts
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new WorkerPoolExecutor();
   * const future = pool.submit((a: number, b: number) => a ** b, 2, 10);
   * console.assert((await future) === 1024);
   * ```
   */
  submit<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: A
  ): Future<Awaited<R>> {
    return this.#submit(fn, args, undefined);
  }

  /**
   * `submit()` with limits; see `Executor.run()`. Stopping a running call
   * here ends its worker thread (`terminate()`); the calls sent behind it
   * go to a fresh worker.
   *
   * @example Aborting a call
   * ```ts
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
   * const controller = new AbortController();
   * const slow = () => new Promise((r) => setTimeout(r, 10_000));
   * const future = pool.run(slow, [], { signal: controller.signal });
   * controller.abort(new Error("not needed any more"));
   * const error = await future.exception();
   * console.assert(
   *   error instanceof Error && error.message === "not needed any more",
   * );
   * ```
   */
  override run<A extends unknown[], R>(
    fn: (...args: A) => R,
    args: A,
    options?: RunOptions,
  ): Future<Awaited<R>> {
    return this.#submit(fn, args, options ?? {});
  }

  /** `options` is `undefined` for `submit()`, which has none to check. */
  #submit<A extends unknown[], R>(
    fn: (...args: A) => R,
    args: A,
    options: RunOptions | undefined,
  ): Future<Awaited<R>> {
    return this.#engine.call(fn as never, args, options, makeCall);
  }

  /**
   * Stops taking work; see `Executor.shutdown()`. Queued calls still run
   * unless `cancelFutures` is set; idle workers are ended.
   *
   * @param options `wait` (default `true`) and `cancelFutures` (default `false`).
   * @returns A promise that settles once every worker has ended (at once
   * without `wait`).
   *
   * @example
   * ```ts
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   *
   * const pool = new WorkerPoolExecutor({ maxWorkers: 1 });
   * const future = pool.submit(() => "done");
   * await pool.shutdown();
   * console.assert((await future.result(0)) === "done");
   * ```
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = options;
    const gone = this.#engine.shutdown(cancelFutures);
    return wait ? gone : Promise.resolve();
  }

  /**
   * As CPython 3.14's `terminate_workers()`: `shutdown({ wait: false,
   * cancelFutures: true })`, then `terminate()` on every worker thread.
   * Queued calls are cancelled; running ones fail with `BrokenWorkerPool`;
   * a later `submit()` throws `ShutdownError`.
   *
   * Deno cannot stop a thread that never yields (a busy loop): its future
   * fails all the same, but the thread runs on and holds the process open.
   *
   * @returns A promise that settles once every worker is ended.
   *
   * @example
   * ```ts
   * import { BrokenWorkerPool, WorkerPoolExecutor } from "@concurrent/futures";
   *
   * const pool = new WorkerPoolExecutor({ maxWorkers: 1 });
   * await pool.submit(() => "started"); // the worker is up
   * const stuck = pool.submit(() => new Promise(() => {}));
   * await Promise.resolve(); // the pool sends it at the end of the turn
   * await pool.terminateWorkers();
   * console.assert((await stuck.exception()) instanceof BrokenWorkerPool);
   * ```
   */
  terminateWorkers(): Promise<void> {
    return this.#engine.terminate("SIGTERM");
  }

  /**
   * The same as `terminateWorkers()`: a thread has no gentler way to end.
   * Kept for parity with the process pool.
   *
   * @returns A promise that settles once every worker is ended.
   *
   * @example
   * ```ts
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   *
   * const pool = new WorkerPoolExecutor();
   * pool.submit(() => new Promise(() => {})); // never settles
   * await pool.killWorkers();
   * ```
   */
  killWorkers(): Promise<void> {
    return this.#engine.terminate("SIGKILL");
  }

  /**
   * Sends a batch of calls to `fn` as one message, for `map({ chunksize })`.
   *
   * @typeParam A The argument types.
   * @typeParam R The return type of `fn`.
   * @param fn The function to call.
   * @param batch One argument list per call.
   * @returns The future of one outcome per call.
   */
  protected override submitBatch<A extends unknown[], R>(
    fn: (...args: A) => R,
    batch: A[],
    limits?: RunOptions,
  ): Future<BatchOutcome<Awaited<R>>[]> {
    this.assertOpen();
    const future = new Future<BatchOutcome<Awaited<R>>[]>();
    const { lists, failures, transfer } = takeBatch(batch);
    if (failures.size === batch.length) {
      future.setResult(batch.map((_, i) => [false, failures.get(i)] as const));
      return future;
    }
    this.#engine.submit(
      new WebCall(future as Future<unknown>, fn, lists, transfer, {
        failures,
      }),
      limits,
    );
    return future;
  }

  /** Throws what `submit()` would throw now. */
  protected override assertOpen(): void {
    this.#engine.assertOpen();
  }

  /** The engine's view of this pool. */
  #host(): EngineHost<WebCall> {
    return {
      prepare: async () => {
        const [Worker] = await Promise.all([
          workerClass(),
          this.#shipping.load(this.#modules),
        ]);
        this.#setup = this.#workerSetup(Worker);
      },
      start: (listener) => new WebWorker(this.#setup!, listener),
      broken: (reason, detail, cause) =>
        new BrokenWorkerPool(
          `${BROKEN[reason]}: ${detail}`,
          cause === undefined ? undefined : { cause },
        ),
    };
  }

  /** What every worker starts with; throws when the initializer or its
   * arguments cannot be sent. */
  #workerSetup(Worker: WorkerClass): WebWorkerSetup {
    let init: WebWorkerSetup["init"];
    let initKey: number | undefined;
    let initBySource: WebWorkerSetup["initBySource"];
    if (this.#modules.length > 0 || this.#initializer !== undefined) {
      init = { t: "init", modules: this.#modules };
    }
    if (init !== undefined && this.#initializer !== undefined) {
      const shipped = this.#shipping.ship(this.#initializer);
      init.init = shipped;
      init.args = [...this.#initargs];
      try {
        structuredClone(init.args);
      } catch (error) {
        throw argumentsError(init.args, error);
      }
      if ("k" in shipped) {
        initKey = shipped.k;
        initBySource = this.#initializer;
      }
    }
    return {
      Worker,
      entry: ENTRY,
      options: this.#options,
      shipping: this.#shipping,
      init,
      initKey,
      initBySource,
    };
  }
}

/** The arguments of one call, with its `transfer()` markers unwrapped. */
interface Taken {
  readonly args: unknown[];
  /** The buffers that move; when set, `args` are known to clone. */
  readonly transfer: Transferable[] | undefined;
}

/**
 * Unwraps the `transfer()` markers among `args`. With any, the arguments
 * are cloned now, their buffers moved into the clone (so that they are
 * detached at once, and the call cannot see later changes).
 *
 * @param args The arguments.
 * @param always Clone them even without markers.
 * @throws {DataCloneError} When the arguments cannot be cloned (Deno then
 * detaches the buffers all the same).
 */
function take(args: unknown[], always = false): Taken {
  let buffers: Transferable[] | undefined;
  for (const arg of args) {
    if (isTransfer(arg)) (buffers ??= []).push(...arg.buffers);
  }
  if (buffers === undefined && !always) return { args, transfer: undefined };
  const values = args.map((arg) => isTransfer(arg) ? arg.value : arg);
  const moved = buffers ?? [];
  try {
    // The clone's own buffers are what the worker is then sent.
    const clone = structuredClone({ values, moved }, { transfer: moved });
    return { args: clone.values, transfer: clone.moved };
  } catch (error) {
    throw argumentsError(values, error);
  }
}

/**
 * {@linkcode take} for a batch. With a marker in any item, every item is
 * cloned now, so that the batch is known to clone and can move its buffers
 * in one message; an item that does not clone fails alone.
 */
function takeBatch(batch: readonly unknown[][]): {
  lists: unknown[];
  failures: Map<number, unknown>;
  transfer: Transferable[] | undefined;
} {
  const failures = new Map<number, unknown>();
  if (!batch.some((args) => args.some(isTransfer))) {
    return { lists: batch as unknown[], failures, transfer: undefined };
  }
  const lists: unknown[] = [];
  const transfer: Transferable[] = [];
  batch.forEach((args, i) => {
    try {
      const taken = take(args, true);
      lists.push(taken.args);
      transfer.push(...taken.transfer!);
    } catch (error) {
      lists.push(args);
      failures.set(i, error);
    }
  });
  return { lists, failures, transfer };
}

/** A call for the engine: its arguments checked for cloning now, so that
 * one that cannot travel fails its own future. */
function makeCall(
  future: Future<unknown>,
  fn: (...args: never[]) => unknown,
  args: unknown[],
): WebCall {
  const { args: taken, transfer } = take(args);
  return new WebCall(future, fn, taken, transfer);
}
