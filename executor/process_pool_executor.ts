/**
 * `ProcessPoolExecutor`: calls run in long-lived worker subprocesses of the
 * current runtime, for CPU-bound work that must not block the event loop.
 *
 * @module
 */
import { Future } from "../future/future.ts";
import { BrokenProcessPool } from "../future/errors.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "../workers/_protocol.ts";
import {
  Executor,
  type ExecutorStats,
  type ShutdownOptions,
} from "./executor.ts";
import type { BatchResult } from "./_map.ts";
import type { RunOptions } from "./_call_limits.ts";
import {
  checkInitializer,
  checkMaxTasksPerChild,
  checkMaxWorkers,
  checkOnWorkerDeath,
  cpuCount,
  describe,
} from "./_options.ts";
import { workerEntry } from "./_entry.ts";
import {
  requireRuntime,
  type RuntimeName,
  startupPermissions,
} from "./_runtime.ts";
import {
  filePath,
  losesPartialGrants,
  spawnFor,
  workerCommand,
  type WorkerPermissions,
} from "./_spawn.ts";
import { FunctionShipping, moduleUrl } from "./_function_shipping.ts";
import {
  Call,
  encodeArgs,
  encodeBatch,
  ProcessWorker,
  type WorkerSetup,
} from "./_process_transport.ts";
import {
  type BreakReason,
  type EngineHost,
  type OnWorkerDeath,
  WorkerPoolEngine,
} from "./_worker_pool_engine.ts";

export type { RuntimeName } from "./_runtime.ts";
export type { OnWorkerDeath } from "./_worker_pool_engine.ts";
export type { PermissionGrant, WorkerPermissions } from "./_spawn.ts";
export type { DenoPermissionName } from "./_runtime.ts";

/** The options of `new ProcessPoolExecutor()`. */
export interface ProcessPoolExecutorOptions {
  /**
   * How many worker processes may run at once; they start on demand.
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
   * The arguments of `initializer`, sent with the value codec.
   * @default {[]}
   */
  initargs?: readonly unknown[];
  /**
   * How many calls a worker runs before it exits and is replaced (a batch
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
   * `Deno.PermissionOptions`; ignored by Bun and Node workers.
   * @default {"inherit"} the permissions the parent holds
   */
  permissions?: WorkerPermissions;
  /**
   * The runtime the workers run on.
   * @default {the current runtime}
   */
  runtime?: RuntimeName;
  /**
   * The whole command line that starts a worker, for wrappers such as
   * `ssh host deno run -A` or a container; the worker entry
   * (`workers/process_worker.ts`: its path, or its URL when it is not a
   * local file) is appended as the last argument.
   * @default {undefined} `deno run <the parent's permissions>` or `bun run`
   */
  command?: readonly string[];
  /**
   * Environment variables added to the parent's, for the workers.
   * @default {undefined}
   */
  env?: Readonly<Record<string, string>>;
  /**
   * The workers' working directory.
   * @default {undefined} the parent's
   */
  cwd?: string | URL;
  /**
   * What the death of a worker process that owes answers does: `"break"`
   * breaks the pool, as in CPython; `"replace"` fails the call it was
   * running with `WorkerDiedError` (its exit code or signal and the last
   * lines of its stderr), sends its other calls to a new worker and goes
   * on, unless 5 workers die within 10 s, which breaks the pool.
   * @default {"break"}
   */
  onWorkerDeath?: OnWorkerDeath;
  /**
   * The largest frame, in bytes (JSON and raw bytes of binary data), that
   * may cross the pipe: a call whose arguments or result are larger fails,
   * and the pool goes on.
   * @default {268435456} 256 MiB
   */
  maxFrameBytes?: number;
}

const ENTRY = workerEntry("process_worker");

/** The opening of each `BrokenProcessPool` message, by cause. */
const BROKEN: Readonly<Record<BreakReason, string>> = {
  start: "The process pool cannot start its workers",
  modules:
    "A process could not import the pool's modules, the process pool is not usable anymore",
  initializer:
    "A process initializer failed, the process pool is not usable anymore",
  protocol:
    "A process in the process pool broke the protocol, the process pool is not usable anymore",
  died:
    "A process in the process pool was terminated abruptly while the future was running or pending",
  terminated:
    "A process in the process pool was terminated by terminateWorkers() or killWorkers() while the future was running",
};

/**
 * Runs calls in long-lived worker subprocesses (`Deno.Command` under Deno,
 * `Bun.spawn` under Bun), at most `maxWorkers` at a time: real parallelism
 * for CPU-bound work. Arguments and results travel in the value codec,
 * which keeps what `structuredClone` keeps.
 *
 * A function reaches the workers by reference when it is an export of one
 * of `modules`, else by its source text, compiled once per worker: such a
 * function must be self-contained (parameters and globals only).
 *
 * @example Squaring numbers in two worker processes
 * ```ts
 * import { ProcessPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const squares = [];
 * for await (const y of pool.map((x: number) => x * x, [1, 2, 3])) {
 *   squares.push(y);
 * }
 * console.assert(squares.join() === "1,4,9");
 * ```
 */
export class ProcessPoolExecutor extends Executor {
  readonly #maxWorkers: number;
  readonly #engine: WorkerPoolEngine<Call>;
  readonly #shipping = new FunctionShipping();
  readonly #modules: string[];
  #command: string[];
  /** Passes the partial grants of `"inherit"` on, where they can be read. */
  readonly #passPartialGrants: (() => Promise<void>) | undefined;
  readonly #env: Readonly<Record<string, string>> | undefined;
  readonly #cwd: string | undefined;
  readonly #maxFrameBytes: number;
  readonly #initializer: ((...args: unknown[]) => unknown) | undefined;
  readonly #initargs: readonly unknown[];
  #setup: WorkerSetup | undefined;

  /**
   * Creates a pool; worker processes start on demand.
   *
   * @param options See {@linkcode ProcessPoolExecutorOptions}.
   * @throws {RangeError} `maxWorkers must be greater than 0`,
   * `maxTasksPerChild must be >= 1`, or a `maxFrameBytes` out of range.
   * @throws {TypeError} `initializer must be a function`, or an option of
   * the wrong type.
   * @throws {Error} On a runtime that is none of Deno, Bun and Node 22 or
   * later.
   *
   * @example
   * ```ts
   * import { ProcessPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new ProcessPoolExecutor({ maxWorkers: 2 });
   * console.assert(pool.maxWorkers === 2);
   * ```
   */
  constructor(options: ProcessPoolExecutorOptions = {}) {
    super();
    const current = requireRuntime("ProcessPoolExecutor");
    // One process per core: more only adds switching for CPU-bound work.
    this.#maxWorkers = checkMaxWorkers(options.maxWorkers, cpuCount());
    checkInitializer(options.initializer);
    this.#initializer = options.initializer;
    this.#initargs = options.initargs ?? [];
    const maxTasksPerChild = checkMaxTasksPerChild(options.maxTasksPerChild);
    this.#maxFrameBytes = checkFrameBytes(options.maxFrameBytes);
    this.#modules = (options.modules ?? []).map(moduleUrl);
    const runtime = checkRuntime(options.runtime, current);
    const { command, permissions } = options;
    this.#command = command === undefined
      ? workerCommand(runtime, ENTRY, permissions)
      : [...command, entryArgument(ENTRY)];
    this.#passPartialGrants =
      command === undefined && losesPartialGrants(runtime, permissions)
        ? async () => {
          const held = await startupPermissions();
          if (held === undefined) return;
          this.#command = workerCommand(runtime, ENTRY, permissions, held);
        }
        : undefined;
    this.#env = options.env;
    this.#cwd = options.cwd instanceof URL
      ? filePath(options.cwd)
      : options.cwd;
    this.#engine = new WorkerPoolEngine(this.#host(current), {
      maxWorkers: this.#maxWorkers,
      maxTasksPerChild,
      onWorkerDeath: checkOnWorkerDeath(options.onWorkerDeath),
    });
  }

  /**
   * How many worker processes may run at once.
   *
   * @example
   * ```ts
   * import { ProcessPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new ProcessPoolExecutor();
   * console.assert(pool.maxWorkers === navigator.hardwareConcurrency);
   * ```
   */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  /**
   * The pool's load; see `Executor.stats()`. `workers` are the processes
   * alive, starting and closing ones included; `running` counts the calls
   * sent to them and not yet answered, which includes the short calls a
   * worker is sent ahead of time.
   *
   * @returns The counts of workers and calls.
   *
   * @example
   * ```ts
   * import { ProcessPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new ProcessPoolExecutor({ maxWorkers: 2 });
   * await pool.submit((n: number) => n + 1, 1);
   * const { workers, completed, queued } = pool.stats();
   * console.assert(workers === 1 && completed === 1 && queued === 0);
   * ```
   */
  stats(): ExecutorStats {
    return this.#engine.stats();
  }

  /**
   * Schedules `fn(...args)` in a worker process and returns its future at
   * once. The arguments are encoded now: changing them afterwards does not
   * change the call.
   *
   * @typeParam A The argument types.
   * @typeParam R The return type of `fn`.
   * @param fn A sync or async function: an export of `modules`, or a
   * self-contained function (sent by source).
   * @param args Its arguments: values the codec carries.
   * @returns The future of the call's awaited result. An argument that
   * cannot be sent, a native or bound function, or a frame over
   * `maxFrameBytes` fails this future only (`DataCloneError`,
   * `FrameTooLargeError`).
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {BrokenProcessPool} Once the pool is broken.
   *
   * @example
   * ```ts
   * import { ProcessPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new ProcessPoolExecutor();
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
   * here kills its worker process (SIGKILL, so that even a busy loop
   * ends); the calls sent behind it go to a fresh worker. A call with
   * limits is sent only to an idle worker, so its timeout counts from when
   * it really starts.
   *
   * @example Stopping a call stuck in a loop
   * ```ts
   * import { ProcessPoolExecutor, TimeoutError } from "@concurrent/futures";
   *
   * await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
   * const spin = () => {
   *   for (;;);
   * };
   * const error = await pool.run(spin, [], { timeout: 100 }).catch((e) => e);
   * console.assert(error instanceof TimeoutError);
   * console.assert((await pool.submit(() => "still here")) === "still here");
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
   * unless `cancelFutures` is set; idle workers are told to exit.
   *
   * @param options `wait` (default `true`) and `cancelFutures` (default `false`).
   * @returns A promise that settles once every worker has exited (at once
   * without `wait`).
   *
   * @example
   * ```ts
   * import { ProcessPoolExecutor } from "@concurrent/futures";
   *
   * const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
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
   * cancelFutures: true })`, then SIGTERM to every worker. Queued calls are
   * cancelled; running ones fail with `BrokenProcessPool`; a later
   * `submit()` throws `ShutdownError`.
   *
   * @returns A promise that settles once every worker has exited.
   *
   * @example
   * ```ts
   * import { BrokenProcessPool, ProcessPoolExecutor } from "@concurrent/futures";
   *
   * const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
   * const stuck = pool.submit(() => new Promise(() => {}));
   * await pool.submit(() => "started"); // the other worker runs `stuck`
   * await pool.terminateWorkers();
   * console.assert((await stuck.exception()) instanceof BrokenProcessPool);
   * ```
   */
  terminateWorkers(): Promise<void> {
    return this.#engine.terminate("SIGTERM");
  }

  /**
   * As `terminateWorkers()`, with SIGKILL: for workers that ignore SIGTERM.
   *
   * @returns A promise that settles once every worker has exited.
   *
   * @example
   * ```ts
   * import { BrokenProcessPool, ProcessPoolExecutor } from "@concurrent/futures";
   *
   * const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
   * const spinning = pool.submit(() => {
   *   for (;;); // never returns
   * });
   * await pool.submit(() => "started"); // the other worker runs `spinning`
   * await pool.killWorkers();
   * console.assert((await spinning.exception()) instanceof BrokenProcessPool);
   * ```
   */
  killWorkers(): Promise<void> {
    return this.#engine.terminate("SIGKILL");
  }

  /** Sends a batch of calls to `fn` as one message, for `map({ chunksize })`. */
  protected override submitBatch<A extends unknown[], R>(
    fn: (...args: A) => R,
    batch: A[],
    limits?: RunOptions,
  ): Future<BatchResult<Awaited<R>>> {
    this.assertOpen();
    const future = new Future<BatchResult<Awaited<R>>>();
    const { args, failures } = encodeBatch(batch);
    if (failures.size === batch.length) {
      const values = batch.map(() => undefined as Awaited<R>);
      future.setResult({ values, errors: failures });
      return future;
    }
    this.#engine.submit(
      new Call(future as Future<unknown>, fn, args, {
        size: batch.length,
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
  #host(runtime: RuntimeName): EngineHost<Call> {
    return {
      prepare: async () => {
        const [spawn] = await Promise.all([
          spawnFor(runtime),
          this.#shipping.load(this.#modules),
          this.#passPartialGrants?.(),
        ]);
        this.#setup = this.#workerSetup(spawn);
      },
      start: (listener) => new ProcessWorker(this.#setup!, listener),
      broken: (reason, detail, cause) =>
        new BrokenProcessPool(
          `${BROKEN[reason]}: ${detail}`,
          cause === undefined ? undefined : { cause },
        ),
    };
  }

  /** What every worker starts with; throws when the initializer or its
   * arguments cannot be sent. */
  #workerSetup(spawn: WorkerSetup["spawn"]): WorkerSetup {
    const init: WorkerSetup["init"] = {
      t: "init",
      modules: this.#modules,
      maxFrameBytes: this.#maxFrameBytes,
    };
    let initKey: number | undefined;
    let initBySource: WorkerSetup["initBySource"];
    if (this.#initializer !== undefined) {
      const shipped = this.#shipping.ship(this.#initializer);
      init.init = shipped;
      init.args = encodeArgs(this.#initargs);
      if ("k" in shipped) {
        initKey = shipped.k;
        initBySource = this.#initializer;
      }
    }
    return {
      spawn,
      command: this.#command,
      env: this.#env,
      cwd: this.#cwd,
      maxFrameBytes: this.#maxFrameBytes,
      shipping: this.#shipping,
      init,
      initKey,
      initBySource,
    };
  }
}

function checkFrameBytes(maxFrameBytes: number | undefined): number {
  if (maxFrameBytes === undefined) return DEFAULT_MAX_FRAME_BYTES;
  if (
    !Number.isInteger(maxFrameBytes) || maxFrameBytes < 1 ||
    maxFrameBytes > 0xffff_ffff
  ) {
    throw new RangeError(
      "maxFrameBytes must be an integer from 1 to 4294967295",
    );
  }
  return maxFrameBytes;
}

function checkRuntime(
  runtime: RuntimeName | undefined,
  current: RuntimeName,
): RuntimeName {
  if (runtime === undefined) return current;
  if (runtime !== "deno" && runtime !== "bun" && runtime !== "node") {
    throw new TypeError(
      `runtime must be "deno", "bun" or "node", got ${describe(runtime)}`,
    );
  }
  return runtime;
}

/** The worker entry as a command line argument: a path where it is a
 * local file (which both runtimes run), else its URL. */
function entryArgument(entry: URL): string {
  return entry.protocol === "file:" ? filePath(entry) : entry.href;
}

/** A call for the engine: its arguments encoded now, so that any the codec
 * rejects fail its own future. */
function makeCall(
  future: Future<unknown>,
  fn: (...args: never[]) => unknown,
  args: unknown[],
): Call {
  return new Call(future, fn, encodeArgs(args));
}
