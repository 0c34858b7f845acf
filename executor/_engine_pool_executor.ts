/**
 * What the process pool and the worker pool share: an executor over the
 * engine. A pool class gives it a {@linkcode PoolHost} — its messages, how
 * it prepares and starts its workers, and how its arguments travel — and
 * inherits everything else.
 *
 * @module
 */
import { Future } from "../future/future.ts";
import {
  Executor,
  type ExecutorStats,
  type ShutdownOptions,
} from "./executor.ts";
import type { BatchValues } from "./_map.ts";
import type { RunOptions } from "./_call_limits.ts";
import {
  type BreakReason,
  Engine,
  type EngineHost,
  type GroupStats,
} from "./_engine.ts";
import type { HostStats } from "./_hosts.ts";
import type { CpuPoolOptions } from "./cpu_pool_options.ts";
import {
  FunctionShipping,
  moduleUrl,
  type Shipped,
} from "./_function_shipping.ts";
import {
  checkInitargs,
  checkInitializer,
  checkMaxTasksPerChild,
  checkMaxWorkers,
  checkModules,
  checkOnWorkerDeath,
  cpuCount,
} from "./_options.ts";
import type { RemoteCall } from "./_remote_call.ts";
import type { EngineWorker, WorkerListener } from "./_worker_transport.ts";

type AnyFunction = (...args: never[]) => unknown;

/** What every worker of a pool is given, whatever runs it. */
export interface WorkerBasics {
  /** The pool's functions, with its modules' exports loaded. */
  readonly shipping: FunctionShipping;
  /** The URLs of the pool's `modules`. */
  readonly modules: readonly string[];
  /** How the initializer travels, if there is one. */
  readonly initializer: Shipped | undefined;
  /** The initializer's arguments. */
  readonly initargs: readonly unknown[];
  /** The initializer's source key, when it goes by source. */
  readonly initKey: number | undefined;
  /** The initializer, when it goes by source (for the closure hint). */
  readonly initBySource: AnyFunction | undefined;
}

/** What makes one CPU pool differ from the other. */
export interface PoolHost {
  /** The pool's `Broken…` error class. */
  readonly Broken: new (message: string, options?: ErrorOptions) => Error;
  /** The opening of each `Broken…` message, by cause. */
  readonly brokenMessages: Readonly<Record<BreakReason, string>>;
  /** Gets ready to start workers (loads what they need); called once,
   * before the first worker starts. Throws when workers cannot start. */
  prepare(basics: WorkerBasics): Promise<void>;
  /** Starts a worker that reports to `listener`. Throws when it cannot. */
  start(listener: WorkerListener): EngineWorker<RemoteCall>;
  /** The item of one call; throws for arguments that cannot travel. */
  makeCall(
    future: Future<unknown>,
    fn: AnyFunction,
    args: unknown[],
  ): RemoteCall;
  /** For a pool across machines: how many workers its machines may run
   * (the default `maxWorkers`), whether one takes a worker now, why none
   * ever may, when one may again (see `EngineHost`), and each machine's
   * part of `stats()`. */
  readonly machines?: {
    readonly capacity: number;
    mayStart(now: number): boolean;
    unservable(): string | undefined;
    nextStart(now: number): number | undefined;
    stats(groups: ReadonlyMap<string, GroupStats>): HostStats[];
  };
  /** The item of a batch for `map({ chunksize })`, its arguments by
   * column: the items whose arguments cannot travel are its batch's
   * failures. */
  makeBatch(
    future: Future<BatchValues<unknown>>,
    fn: AnyFunction,
    columns: unknown[][],
  ): RemoteCall;
}

/**
 * The base of `ProcessPoolExecutor` and `WorkerPoolExecutor`.
 *
 * @internal
 */
export abstract class EnginePoolExecutor extends Executor {
  readonly #maxWorkers: number;
  readonly #engine: Engine<RemoteCall>;
  readonly #host: PoolHost;

  /**
   * Checks the options both pools take and makes the engine.
   *
   * @param options The pool's options.
   * @param host What makes the pool differ.
   */
  constructor(options: CpuPoolOptions, host: PoolHost) {
    super();
    // One worker per core: more only adds switching for CPU-bound work
    // (across machines, per core of each).
    this.#maxWorkers = checkMaxWorkers(
      options.maxWorkers,
      host.machines === undefined ? cpuCount() : Infinity,
    );
    checkInitializer(options.initializer);
    const maxTasksPerChild = checkMaxTasksPerChild(options.maxTasksPerChild);
    const modules = checkModules(options.modules).map(moduleUrl);
    const onWorkerDeath = checkOnWorkerDeath(options.onWorkerDeath);
    this.#host = host;
    const { initializer } = options;
    const initargs = checkInitargs(options.initargs);
    const engineHost: EngineHost<RemoteCall> = {
      prepare: async () => {
        const shipping = new FunctionShipping();
        await shipping.load(modules);
        const shipped = initializer && shipping.ship(initializer);
        const bySource = shipped !== undefined && "k" in shipped;
        await host.prepare({
          shipping,
          modules,
          initializer: shipped,
          initargs,
          initKey: bySource ? shipped.k : undefined,
          initBySource: bySource ? initializer : undefined,
        });
      },
      start: (listener) => host.start(listener),
      makeCall: (future, fn, args) => host.makeCall(future, fn, args),
      ...host.machines === undefined ? {} : {
        mayStart: (now) => host.machines!.mayStart(now),
        unservable: () => host.machines!.unservable(),
        nextStart: (now) => host.machines!.nextStart(now),
      },
      broken: (reason, detail, cause) =>
        new host.Broken(
          `${host.brokenMessages[reason]}: ${detail}`,
          cause === undefined ? undefined : { cause },
        ),
    };
    this.#engine = new Engine(engineHost, {
      maxWorkers: this.#maxWorkers,
      maxTasksPerChild,
      onWorkerDeath,
      // Across machines, each machine keeps its own count of failures.
      crashLoop: host.machines === undefined,
    });
  }

  /**
   * How many workers may run at once.
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
    return Math.min(
      this.#maxWorkers,
      this.#host.machines?.capacity ?? Infinity,
    );
  }

  /**
   * The pool's load; see `Executor.stats()`. `workers` are the workers
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
    const stats = this.#engine.stats();
    const machines = this.#host.machines;
    if (machines === undefined) return stats;
    return { ...stats, hosts: machines.stats(this.#engine.groups()) };
  }

  /**
   * Schedules `fn(...args)` in a worker and returns its future at once.
   *
   * @typeParam A The argument types.
   * @typeParam R The return type of `fn`.
   * @param fn A sync or async function: an export of `modules`, or a
   * self-contained function (sent by source).
   * @param args Its arguments.
   * @returns The future of the call's awaited result. An argument that
   * cannot be sent, a native or bound function, or a frame over
   * `maxFrameBytes` fails this future only (`DataCloneError`,
   * `FrameTooLargeError`).
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {BrokenExecutor} Once the pool is broken.
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
    return this.#engine.call("submit", fn, args, undefined);
  }

  /**
   * `submit()` with limits; see `Executor.run()`. Stopping a running call
   * ends its worker (a process by SIGKILL, so that even a busy loop ends;
   * a thread by `terminate()`), and a fresh worker serves the rest. A call
   * with limits is sent only to an idle worker, and no call is sent behind
   * it: its timeout counts from when it really starts, and stopping it
   * costs no other call.
   *
   * @typeParam A The argument types.
   * @typeParam R The return type of `fn`.
   * @param fn A sync or async function, as for `submit()`.
   * @param args Its arguments, as an array.
   * @param options `timeout` (ms, from the start of the call) and `signal`.
   * @returns The future of the call's awaited result.
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {BrokenExecutor} Once the pool is broken.
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
    return this.#engine.call("run", fn, args, options);
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
   * cancelFutures: true })`, then SIGTERM to every worker process (a
   * thread is terminated). Queued calls are cancelled; running ones fail
   * with the pool's `Broken…` error; a later `submit()` throws
   * `ShutdownError`.
   *
   * Deno cannot stop a Web Worker that never yields (a busy loop), which a
   * worker pool uses only for workers given `permissions`: their futures
   * fail all the same, but such a thread runs on and holds the process open.
   *
   * @returns A promise that settles once every worker has ended.
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
   * As `terminateWorkers()`, with SIGKILL: for worker processes that ignore
   * SIGTERM. A thread has no gentler way to end: for the worker pool, the
   * two are the same.
   *
   * @returns A promise that settles once every worker has ended.
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

  /**
   * Sends a batch of calls to `fn` as one message, for `map({ chunksize })`.
   *
   * @typeParam A The argument types.
   * @typeParam R The return type of `fn`.
   * @param fn The function to call.
   * @param columns The calls' arguments, one array per parameter.
   * @param limits The map's signal, if any.
   * @returns The future of the batch's outcomes.
   */
  protected override submitBatch<A extends unknown[], R>(
    fn: (...args: A) => R,
    columns: unknown[][],
    limits?: RunOptions,
  ): Future<BatchValues<Awaited<R>>> {
    this.#engine.assertOpen();
    const future = new Future<BatchValues<Awaited<R>>>();
    const call = this.#host.makeBatch(
      future as Future<BatchValues<unknown>>,
      fn as AnyFunction,
      columns,
    );
    const { size, failures } = call.batch!;
    if (failures.size < size) {
      this.#engine.submit(call, limits);
    } else {
      // No item can travel: every outcome is known here.
      const values = new Array<Awaited<R>>(size);
      future.setResult({ values, errors: failures });
    }
    return future;
  }

  /** Throws what `submit()` would throw now. */
  protected override assertOpen(): void {
    this.#engine.assertOpen();
  }
}
