/**
 * `WorkerPoolExecutor`: calls run in long-lived module Web Workers, real
 * threads of this process, for CPU-bound work that must not block the
 * event loop. Python 3.14's `InterpreterPoolExecutor`, for Deno, Bun and
 * Node.
 *
 * @module
 */
import type { Future } from "../future/future.ts";
import { BrokenWorkerPool } from "../future/errors.ts";
import {
  isTransfer,
  TRANSFER,
  type TransferMarker,
} from "../workers/_transfer.ts";
import type { BatchValues } from "./_map.ts";
import type { BreakReason } from "./_engine.ts";
import type { CpuPoolOptions } from "./cpu_pool_options.ts";
import {
  EnginePoolExecutor,
  type PoolHost,
  type WorkerBasics,
} from "./_engine_pool_executor.ts";
import { workerEntry } from "./_entry.ts";
import { checkOptions } from "./_options.ts";
import { requireRuntime } from "./_runtime.ts";
import {
  checkEntryReadable,
  checkPermissions,
  workerPermissions,
} from "./_deno_permissions.ts";
import { type BatchState, RemoteCall, sendableBatch } from "./_remote_call.ts";
import {
  argumentsError,
  WebWorker,
  type WebWorkerSetup,
  workerClass,
} from "./_web_worker_transport.ts";
import type { WorkerListener } from "./_worker_transport.ts";

export type {
  CpuPoolOptions,
  DenoPermissionName,
  OnWorkerDeath,
  PermissionGrant,
  WorkerPermissions,
} from "./cpu_pool_options.ts";

/** The options of `new WorkerPoolExecutor()`: those of
 * {@linkcode CpuPoolOptions}. */
export type WorkerPoolExecutorOptions = CpuPoolOptions;

const ENTRY = workerEntry("web_worker");

const OPTIONS: readonly (keyof WorkerPoolExecutorOptions)[] = [
  "maxWorkers",
  "initializer",
  "initargs",
  "maxTasksPerChild",
  "modules",
  "permissions",
  "onWorkerDeath",
];

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
 * {@linkcode transfer} move instead of being copied. The arguments of a
 * call are cloned when it is sent to a worker (at the end of the turn at
 * the earliest, as CPython pickles a call when it queues it for a
 * process); those wrapped with `transfer()` are taken, and their buffers
 * detached, at `submit()`.
 *
 * A function reaches the workers by reference when it is an export of one
 * of `modules`, else by its source text, compiled once per worker: such a
 * function must be self-contained (parameters and globals only).
 *
 * Its methods (`submit`, `run`, `map`, `shutdown`, `terminateWorkers`,
 * `killWorkers`, `stats`) are those of `ProcessPoolExecutor`; stopping a
 * running call (`run()` with a timeout or signal) ends its worker thread
 * (`terminate()`).
 *
 * Idle workers let the program exit, even one that never calls
 * `shutdown()`; under Deno, except for workers given `permissions`, which
 * hold the program open until `shutdown()` (or `await using`).
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
export class WorkerPoolExecutor extends EnginePoolExecutor {
  /**
   * Creates a pool; worker threads start on demand.
   *
   * @param options See {@linkcode WorkerPoolExecutorOptions}.
   * @throws {RangeError} `maxWorkers must be greater than 0`, or
   * `maxTasksPerChild must be >= 1`.
   * @throws {TypeError} `initializer must be a function`, or an option of
   * the wrong type.
   * @throws {Error} On a runtime that is none of Deno, Bun and Node 22 or
   * later; under Deno, for `permissions` without
   * `--unstable-worker-options`, or when this process may not read the
   * worker modules.
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
    const checked = checkOptions(options, OPTIONS, "WorkerPoolExecutor");
    super(checked, new WebHost(checked));
  }
}

/** How the worker pool prepares, starts and feeds its workers. */
class WebHost implements PoolHost {
  readonly Broken = BrokenWorkerPool;
  readonly brokenMessages = BROKEN;
  readonly #options: WorkerOptions;
  #setup: WebWorkerSetup | undefined;

  constructor(options: WorkerPoolExecutorOptions) {
    requireRuntime("WorkerPoolExecutor");
    const permissions = workerPermissions(
      checkPermissions(options.permissions),
    );
    checkEntryReadable(ENTRY);
    this.#options = permissions === undefined
      ? { type: "module" }
      : { type: "module", deno: { permissions } } as WorkerOptions;
  }

  async prepare(basics: WorkerBasics): Promise<void> {
    const Worker = await workerClass(this.#options.deno !== undefined);
    const { modules, initializer } = basics;
    const initargs = [...basics.initargs];
    if (initializer !== undefined) {
      try {
        structuredClone(initargs);
      } catch (error) {
        throw argumentsError(initargs, error);
      }
    }
    this.#setup = {
      Worker,
      entry: ENTRY,
      options: this.#options,
      shipping: basics.shipping,
      // With neither, the worker is ready as it starts.
      init: modules.length > 0 || initializer !== undefined
        ? {
          t: "init",
          modules: [...modules],
          init: initializer,
          args: initargs,
        }
        : undefined,
      initKey: basics.initKey,
      initBySource: basics.initBySource,
    };
  }

  start(listener: WorkerListener): WebWorker {
    return new WebWorker(this.#setup!, listener);
  }

  /** A call's arguments are checked for cloning when sent; those wrapped
   * with `transfer()` are cloned now, so that their buffers move at once. */
  makeCall(
    future: Future<unknown>,
    fn: (...args: never[]) => unknown,
    args: unknown[],
  ): RemoteCall {
    const { args: taken, transfer } = take(args);
    return new RemoteCall(future, fn, taken, transfer);
  }

  makeBatch(
    future: Future<BatchValues<unknown>>,
    fn: (...args: never[]) => unknown,
    columns: unknown[][],
  ): RemoteCall {
    const taken = takeBatch(columns);
    return new RemoteCall(
      future,
      fn,
      taken.columns,
      taken.transfer,
      taken.batch,
    );
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
 * {@linkcode take} for a batch, by column. With a marker in any item, every
 * item is cloned now, so that the batch is known to clone and can move its
 * buffers in one message; an item that does not clone fails alone.
 *
 * @returns The columns of the calls that can be sent, the batch with the
 * failures of the others by index, and the buffers that move.
 */
function takeBatch(columns: unknown[][]): {
  columns: unknown[][];
  batch: BatchState;
  transfer: Transferable[] | undefined;
} {
  if (!columns.some(hasTransfer)) {
    const batch = { size: columns[0].length, failures: new Map() };
    return { columns, batch, transfer: undefined };
  }
  const transfer: Transferable[] = [];
  const sent = sendableBatch(columns, (row) => {
    const taken = take(row, true);
    row.splice(0, row.length, ...taken.args);
    transfer.push(...taken.transfer!);
  });
  return { ...sent, transfer };
}

function hasTransfer(column: unknown[]): boolean {
  for (let i = 0; i < column.length; i++) {
    if (isTransfer(column[i])) return true;
  }
  return false;
}
