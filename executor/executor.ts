/**
 * `Executor`: the abstract base of every pool, with `map()` written once on
 * top of `submit()`.
 *
 * @module
 */
import { Future } from "../future/future.ts";
import { CallLimits, checkRun, type RunOptions } from "./_call_limits.ts";
import { type BatchValues, MapIterator, type MapSource } from "./_map.ts";
import type { HostStats } from "./_hosts.ts";

export type { BatchValues } from "./_map.ts";
export type { RunOptions } from "./_call_limits.ts";
export type { HostState, HostStats } from "./_hosts.ts";

/** The options of `Executor.map()`. */
export interface MapOptions {
  /**
   * Milliseconds, counted from the call to `map()`, after which iteration
   * throws `TimeoutError` and cancels the calls that have not started.
   * @default {undefined} wait forever
   */
  timeout?: number;
  /**
   * How many items travel to a worker in one message. Checked by every
   * executor, used by the process and worker pools (each item still keeps
   * its own result or exception); the thread pool ignores it.
   * @default {1}
   */
  chunksize?: number;
  /**
   * How many calls may be submitted ahead of the consumer. With it, an
   * endless input runs in bounded memory; without it, every input is
   * submitted at once (sync inputs: during the call to `map()`).
   * @default {undefined} no bound
   */
  buffersize?: number;
  /**
   * Aborts the whole map: iteration throws the signal's `reason`, the calls
   * that have not started are cancelled and the running ones are stopped
   * as by `run()` with this signal.
   */
  signal?: AbortSignal;
}

/** The options of `Executor.shutdown()`. */
export interface ShutdownOptions {
  /**
   * Whether the returned promise waits until running work is done and the
   * workers are gone.
   * @default {true}
   */
  wait?: boolean;
  /**
   * Whether to cancel every future that has not started.
   * @default {false}
   */
  cancelFutures?: boolean;
}

/**
 * A snapshot of an executor's load, from `stats()`. Counts are of calls: a
 * batch of `map({ chunksize })` counts as its items.
 *
 * @example
 * ```ts
 * import { type ExecutorStats, ThreadPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * await pool.submit(() => 1);
 * const stats: ExecutorStats = pool.stats();
 * console.assert(stats.completed === 1 && stats.queued === 0);
 * ```
 */
export interface ExecutorStats {
  /** The workers alive, starting ones included: the thread pool's slots
   * (none once it is shut down and idle), the processes or Web Workers. */
  readonly workers: number;
  /** The workers with nothing to do. */
  readonly idle: number;
  /** The calls running: in the process and worker pools, those sent to a
   * worker and not yet answered (their futures are RUNNING). */
  readonly running: number;
  /** The calls waiting for a worker (cancelled ones do not count). */
  readonly queued: number;
  /** The calls that returned a value, since the pool was made. */
  readonly completed: number;
  /** The calls the pool took that ended with an exception: the call threw,
   * hit its timeout or signal, lost its worker, or the pool broke. Calls
   * cancelled, refused at submission or finished by hand count in neither. */
  readonly failed: number;
  /** For a process pool across machines (`hosts`): the same by machine,
   * with each one's state. */
  readonly hosts?: readonly HostStats[];
}

/**
 * What `map()` takes after `fn`: sync or async iterables, then optionally
 * its {@linkcode MapOptions}.
 *
 * @example
 * ```ts
 * import type { MapInputs } from "@concurrent/futures";
 *
 * const inputs: MapInputs = [[1, 2], ["a", "b"], { timeout: 1000 }];
 * ```
 */
export type MapInputs =
  | readonly (Iterable<unknown> | AsyncIterable<unknown>)[]
  | readonly [...(Iterable<unknown> | AsyncIterable<unknown>)[], MapOptions];

/**
 * The arguments `map()` passes `fn` for the inputs `I`: one element of each
 * iterable, in order (the trailing options are not passed). A function with
 * fewer or optional parameters fits, as it does in a JavaScript call.
 *
 * @example
 * ```ts
 * import type { MapArguments } from "@concurrent/futures";
 *
 * const args: MapArguments<[number[], Set<string>, { timeout: 5 }]> = [1, "a"];
 * ```
 */
export type MapArguments<I extends readonly unknown[]> = I extends
  readonly [infer Head, ...infer Rest]
  ? Head extends Iterable<infer T> ? [T, ...MapArguments<Rest>]
  : Head extends AsyncIterable<infer T> ? [T, ...MapArguments<Rest>]
  : [] // the trailing options
  : I extends readonly [] ? []
  : I extends readonly Iterable<infer T>[] ? T[]
  : I extends readonly AsyncIterable<infer T>[] ? T[]
  : unknown[];

/**
 * The interface every executor shares, as CPython's `Executor`: `submit()`
 * and `shutdown()` are the pool's; `map()` and `await using` come from here.
 *
 * Extend it to write your own executor: implement `submit()`, `shutdown()`
 * and `stats()`, and `map()`, `run()`, `Symbol.asyncDispose` work
 * unchanged.
 *
 * @example An executor that runs every call at once
 * ```ts
 * import {
 *   Executor,
 *   type ExecutorStats,
 *   Future,
 *   ShutdownError,
 * } from "@concurrent/futures";
 *
 * class ImmediateExecutor extends Executor {
 *   #closed = false;
 *   #running = 0;
 *   #completed = 0;
 *   #failed = 0;
 *   submit<A extends unknown[], R>(
 *     fn: (...args: A) => R,
 *     ...args: A
 *   ): Future<Awaited<R>> {
 *     if (this.#closed) {
 *       throw new ShutdownError();
 *     }
 *     const future = new Future<Awaited<R>>();
 *     future.setRunningOrNotifyCancel();
 *     this.#running++;
 *     Promise.resolve().then(() => fn(...args)).then(
 *       (value) => {
 *         this.#running--;
 *         this.#completed++;
 *         future.setResult(value as Awaited<R>);
 *       },
 *       (error) => {
 *         this.#running--;
 *         this.#failed++;
 *         future.setException(error);
 *       },
 *     );
 *     return future;
 *   }
 *   shutdown(): Promise<void> {
 *     this.#closed = true;
 *     return Promise.resolve();
 *   }
 *   stats(): ExecutorStats {
 *     return {
 *       workers: this.#running, // one "worker" per running call
 *       idle: 0,
 *       running: this.#running,
 *       queued: 0,
 *       completed: this.#completed,
 *       failed: this.#failed,
 *     };
 *   }
 * }
 *
 * await using executor = new ImmediateExecutor();
 * for await (const x of executor.map((n: number) => n * 2, [1, 2, 3])) {
 *   console.log(x);
 * }
 * ```
 */
export abstract class Executor implements AsyncDisposable {
  /**
   * Schedules `fn(...args)` and returns its future at once. `fn` may be sync
   * or async.
   *
   * @typeParam A The argument types.
   * @typeParam R The return type of `fn`.
   * @param fn The function to call.
   * @param args Its arguments.
   * @returns The future of the call's (awaited) result.
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {BrokenExecutor} Once the pool is broken.
   */
  abstract submit<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: A
  ): Future<Awaited<R>>;

  /**
   * `submit(fn, ...args)` with limits: a `timeout` in ms, counted from when
   * the call starts running, and an abort `signal`. When either ends the
   * call, a queued call is cancelled and a running one fails with
   * `TimeoutError` or the signal's `reason`; the pools then stop the work
   * itself (the thread pool frees the slot, the process and worker pools
   * replace the worker) and go on.
   *
   * The pools override this method. The default, for executors built on
   * `submit()` alone, counts the timeout from the call and can only cancel
   * a call that has not started.
   *
   * @typeParam A The argument types.
   * @typeParam R The return type of `fn`.
   * @param fn The function to call.
   * @param args Its arguments, as an array.
   * @param options `timeout` and `signal`.
   * @returns The future of the call's (awaited) result. Bad options fail
   * it (`TypeError`, `RangeError`).
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {BrokenExecutor} Once the pool is broken.
   *
   * @example Giving up on a slow call
   * ```ts
   * import { ThreadPoolExecutor, TimeoutError } from "@concurrent/futures";
   *
   * await using pool = new ThreadPoolExecutor();
   * const slow = () => new Promise((r) => setTimeout(r, 1000));
   * const error = await pool.run(slow, [], { timeout: 10 }).catch((e) => e);
   * console.assert(error instanceof TimeoutError);
   * ```
   */
  run<A extends unknown[], R>(
    fn: (...args: A) => R,
    args: A,
    options?: RunOptions,
  ): Future<Awaited<R>> {
    let limits: RunOptions | undefined;
    try {
      limits = checkRun(args, options);
    } catch (error) {
      const failed = new Future<Awaited<R>>();
      failed.setException(error);
      return failed;
    }
    const future = this.submit(fn, ...args);
    if (limits !== undefined) {
      const watch = new CallLimits(future, limits, () => future.cancel());
      watch.started();
    }
    return future;
  }

  /**
   * Stops taking work. With `cancelFutures`, every future that has not
   * started is cancelled; with `wait` (the default), the promise settles
   * once running work is done and the workers are gone. Idempotent.
   *
   * @param options `wait` and `cancelFutures`.
   */
  abstract shutdown(options?: ShutdownOptions): Promise<void>;

  /**
   * A snapshot of the pool's load: its workers, how many are idle, the
   * calls running and queued, and how many completed or failed so far. It
   * costs O(workers + queued calls); keeping the counts costs a call two
   * increments.
   *
   * @returns The counts; see {@linkcode ExecutorStats}.
   *
   * @example Watching a pool drain
   * ```ts
   * import { ThreadPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
   * const calls = [1, 2, 3].map((n) => pool.submit(async () => n));
   * console.assert(pool.stats().queued === 3); // none started yet
   * await Promise.all(calls);
   * const { completed, failed, running } = pool.stats();
   * console.assert(completed === 3 && failed === 0 && running === 0);
   * ```
   */
  abstract stats(): ExecutorStats;

  /**
   * For pools that cross a boundary (process, worker): submits a batch of
   * calls as one message. The calls' arguments come by column
   * (`fn(columns[0][i], columns[1][i])` is call `i`); the future holds one
   * outcome per call: the results, and the exceptions by index. `map()`
   * uses it when `chunksize > 1`; executors without it ignore `chunksize`.
   */
  protected submitBatch?<A extends unknown[], R>(
    fn: (...args: A) => R,
    columns: unknown[][],
    limits?: RunOptions,
  ): Future<BatchValues<Awaited<R>>>;

  /**
   * Throws the error `submit()` would throw now (`ShutdownError`, the pool's
   * `Broken…` error), so that `map()` over async inputs, which submits
   * nothing during the call, still fails at the call.
   */
  protected assertOpen?(): void;

  /**
   * Calls `fn(a[i], b[i], …)` for every position of the inputs (stopping at
   * the shortest) and yields the results in input order. Inputs may be sync
   * or async iterables; the last argument is options when it is a plain
   * object that is not iterable.
   *
   * An exception from a call is thrown when its result is reached, and the
   * calls that have not started are cancelled; so does leaving the loop
   * early (`break`, `return()`).
   *
   * @typeParam I The inputs: `fn` is called with one element of each.
   * @typeParam R The return type of `fn`.
   * @param fn The function to call; it may take fewer parameters than there
   * are inputs, or optional ones, as in any JavaScript call.
   * @param inputs One iterable per argument of `fn`, then optionally
   * `{ timeout, chunksize, buffersize, signal }`.
   * @returns An async iterator of the results, in input order.
   * @throws {RangeError} At the call, for a negative or NaN `timeout`, a
   * `chunksize < 1` or a `buffersize < 1`.
   * @throws {TypeError} At the call, for an input that is not iterable or a
   * `buffersize` or `chunksize` that is not an integer.
   * @throws {ShutdownError} At the call, after `shutdown()` (the pool's
   * `Broken…` error once broken).
   * @throws The signal's `reason`, at the call when it is aborted already,
   * else from the iteration once it aborts.
   *
   * @example Squaring numbers on a pool
   * ```ts
   * import { ThreadPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
   * const squares = [];
   * for await (const y of pool.map((x: number) => x * x, [1, 2, 3])) {
   *   squares.push(y);
   * }
   * console.assert(squares.join() === "1,4,9");
   * ```
   *
   * @example An endless input in bounded memory
   * ```ts
   * import { ThreadPoolExecutor } from "@concurrent/futures";
   *
   * function* naturals() {
   *   for (let n = 0;; n++) yield n;
   * }
   * await using pool = new ThreadPoolExecutor();
   * for await (const n of pool.map((n: number) => n, naturals(), { buffersize: 8 })) {
   *   if (n === 100) break; // cancels what was submitted ahead
   * }
   * ```
   */
  map<I extends MapInputs, R>(
    fn: (...args: MapArguments<I>) => R,
    ...inputs: I
  ): AsyncIterableIterator<Awaited<R>> {
    const last = inputs[inputs.length - 1];
    const options: MapOptions = isOptions(last) ? last : {};
    const iterables = (last === options ? inputs.slice(0, -1) : inputs) as (
      | Iterable<unknown>
      | AsyncIterable<unknown>
    )[];
    const { signal } = options;
    const limits = signal === undefined ? undefined : { signal };
    const source: MapSource<MapArguments<I>, Awaited<R>> = {
      assertOpen: () => this.assertOpen?.(),
      submit: limits === undefined
        ? (args) => this.submit(fn, ...args)
        : (args) => this.run(fn, args, limits),
      submitBatch: this.submitBatch
        ? (columns) => this.submitBatch!(fn, columns, limits)
        : undefined,
    };
    return new MapIterator(source, iterables, options);
  }

  /**
   * `await using` support: `shutdown({ wait: true })`.
   *
   * @example
   * ```ts
   * import { ThreadPoolExecutor } from "@concurrent/futures";
   *
   * {
   *   await using pool = new ThreadPoolExecutor();
   *   pool.submit(() => console.log("runs before the block ends"));
   * } // the pool is shut down and drained here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }
}

/** A plain object that is not iterable: `map()`'s trailing options. */
function isOptions(value: unknown): value is MapOptions {
  if (value === null || typeof value !== "object") return false;
  if (Symbol.iterator in value || Symbol.asyncIterator in value) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
