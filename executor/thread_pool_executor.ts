/**
 * `ThreadPoolExecutor`: at most `maxWorkers` calls at a time on the calling
 * thread's event loop, for I/O-bound async work.
 *
 * @module
 */
import type { Future } from "../future/future.ts";
import { BrokenThreadPool } from "../future/errors.ts";
import {
  Executor,
  type ExecutorStats,
  type ShutdownOptions,
} from "./executor.ts";
import {
  type CallLimits,
  newCall,
  type RunOptions,
  watchLimits,
} from "./_call_limits.ts";
import {
  checkInitargs,
  checkInitializer,
  checkMaxWorkers,
  checkOptions,
  cpuCount,
  describe,
} from "./_options.ts";
import { PoolGate } from "./_pool_gate.ts";
import { Queue } from "./_queue.ts";

/** The options of `new ThreadPoolExecutor()`. */
export interface ThreadPoolExecutorOptions {
  /**
   * How many calls may run at once.
   * @default {Math.min(32, navigator.hardwareConcurrency + 4)}
   */
  maxWorkers?: number;
  /**
   * Called (sync or async) once per worker slot before its first task; if it
   * throws, the pool is broken.
   * @default {undefined}
   */
  // deno-lint-ignore no-explicit-any
  initializer?: (...args: any[]) => unknown;
  /**
   * The arguments of `initializer`.
   * @default {[]}
   */
  initargs?: readonly unknown[];
  /**
   * A label for this pool in messages and inspection.
   * @default {"ThreadPoolExecutor-N"}
   */
  name?: string;
}

/** A submitted call waiting for, or held by, a worker slot. */
interface WorkItem {
  readonly future: Future<unknown>;
  readonly fn: (...args: unknown[]) => unknown;
  readonly args: unknown[];
  /** For a call of `run()`: its limits, and the slot once it runs. */
  limits?: CallLimits;
  slot?: Slot;
}

const OPTIONS: readonly (keyof ThreadPoolExecutorOptions)[] = [
  "maxWorkers",
  "initializer",
  "initargs",
  "name",
];

const BROKEN_MESSAGE =
  "A thread initializer failed, the thread pool is not usable anymore";

let poolCounter = 0;

/**
 * Runs calls on the event loop of the calling thread, at most `maxWorkers`
 * at a time, first in first out: the tool for I/O-bound async work (fetches,
 * queries, file reads) that must not all start at once. A sync call blocks
 * the event loop while it runs, as a thread would hold the GIL: use
 * `ProcessPoolExecutor` or `WorkerPoolExecutor` for CPU-bound work.
 *
 * @example Fetch-like work, four at a time
 * ```ts
 * import { ThreadPoolExecutor } from "@concurrent/futures";
 *
 * const download = async (id: number) => {
 *   await new Promise((r) => setTimeout(r, 5));
 *   return `page ${id}`;
 * };
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
 * const pages = [1, 2, 3, 4, 5, 6].map((id) => pool.submit(download, id));
 * console.log(await Promise.all(pages));
 * ```
 */
export class ThreadPoolExecutor extends Executor {
  /** The pool's label, from the `name` option. */
  readonly name: string;
  readonly #maxWorkers: number;
  readonly #initializer: ((...args: unknown[]) => unknown) | undefined;
  readonly #initargs: readonly unknown[];
  readonly #queue = new Queue<WorkItem>();
  readonly #idle: Slot[] = [];
  #slots = 0;
  #busy = 0;
  readonly #counts: CallCounts = { running: 0, completed: 0, failed: 0 };
  readonly #gate = new PoolGate();
  /** Settles once no call runs or waits, for `shutdown({ wait })`. */
  #quiet: PromiseWithResolvers<void> | undefined;

  /**
   * Creates a pool; worker slots start on demand.
   *
   * @param options `maxWorkers`, `initializer`, `initargs`, `name`.
   * @throws {RangeError} `maxWorkers must be greater than 0`.
   * @throws {TypeError} `initializer must be a function`.
   *
   * @example
   * ```ts
   * import { ThreadPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new ThreadPoolExecutor({ maxWorkers: 8, name: "io" });
   * console.assert(pool.maxWorkers === 8);
   * ```
   */
  constructor(options: ThreadPoolExecutorOptions = {}) {
    super();
    options = checkOptions(options, OPTIONS, "ThreadPoolExecutor");
    // A default above the core count: these slots mostly wait on I/O.
    this.#maxWorkers = checkMaxWorkers(
      options.maxWorkers,
      Math.min(32, cpuCount() + 4),
    );
    checkInitializer(options.initializer);
    this.#initializer = options.initializer;
    this.#initargs = checkInitargs(options.initargs);
    const { name } = options;
    if (name !== undefined && typeof name !== "string") {
      throw new TypeError(`name must be a string, got ${describe(name)}`);
    }
    this.name = name ?? `ThreadPoolExecutor-${poolCounter++}`;
  }

  /** How many calls may run at once. */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  /**
   * Schedules `fn(...args)`; it starts once a slot is free, never inside
   * this call.
   *
   * @typeParam A The argument types.
   * @typeParam R The return type of `fn`.
   * @param fn A sync or async function.
   * @param args Its arguments.
   * @returns The future of the call's awaited result. A `fn` that is not a
   * function fails its own future with `TypeError`.
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {BrokenThreadPool} Once an initializer has failed.
   *
   * @example
   * ```ts
   * import { ThreadPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new ThreadPoolExecutor();
   * const future = pool.submit(async (a: number, b: number) => a + b, 1, 2);
   * console.assert((await future) === 3);
   * ```
   */
  submit<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: A
  ): Future<Awaited<R>> {
    this.#gate.assertOpen();
    return newCall("submit", fn, args, undefined, this.#accept);
  }

  /**
   * `submit()` with a `timeout` and an abort `signal`; see `Executor.run()`.
   * When either ends a running call, its future fails at once with
   * `TimeoutError` or the signal's `reason` and its slot takes the next
   * call; the call's own promise is left to settle unobserved (JavaScript
   * cannot stop it: pass the signal on to the I/O it awaits). A sync call
   * cannot be interrupted.
   *
   * @typeParam A The argument types.
   * @typeParam R The return type of `fn`.
   * @param fn A sync or async function.
   * @param args Its arguments, as an array.
   * @param options `timeout` (ms, from the start of the call) and `signal`.
   * @returns The future of the call's awaited result.
   * @throws {ShutdownError} After `shutdown()`.
   * @throws {BrokenThreadPool} Once an initializer failed.
   *
   * @example A fetch with a deadline of its own
   * ```ts
   * import { ThreadPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new ThreadPoolExecutor();
   * const controller = new AbortController();
   * const wait = (signal: AbortSignal) =>
   *   new Promise((_, reject) =>
   *     signal.addEventListener("abort", () => reject(signal.reason))
   *   );
   * const future = pool.run(wait, [controller.signal], {
   *   signal: controller.signal,
   * });
   * // Once it runs: before, aborting cancels it.
   * setTimeout(() => controller.abort(new Error("stop")), 10);
   * const error = await future.exception();
   * console.assert(error instanceof Error && error.message === "stop");
   * ```
   */
  override run<A extends unknown[], R>(
    fn: (...args: A) => R,
    args: A,
    options?: RunOptions,
  ): Future<Awaited<R>> {
    this.#gate.assertOpen();
    return newCall("run", fn, args, options, this.#accept);
  }

  /** Queues a checked call of `submit()` or `run()`. */
  readonly #accept = (
    future: Future<unknown>,
    fn: (...args: never[]) => unknown,
    args: unknown[],
    limits: RunOptions | undefined,
  ): void => {
    const item: WorkItem = {
      future,
      fn: fn as (...args: unknown[]) => unknown,
      args,
    };
    if (limits !== undefined) {
      item.limits = watchLimits(
        future,
        limits,
        (reason) => this.#interrupt(item, reason),
      );
      if (item.limits === undefined) return; // aborted already
    }
    this.#enqueue(item);
  };

  #enqueue(item: WorkItem): void {
    this.#queue.push(item);
    // Most submissions find every slot busy: skip the call then.
    if (this.#idle.length !== 0 || this.#slots < this.#maxWorkers) {
      this.#wakeSlot();
    }
  }

  /**
   * Stops taking work; see `Executor.shutdown()`. Queued calls still run
   * unless `cancelFutures` is set.
   *
   * @param options `wait` (default `true`) and `cancelFutures` (default `false`).
   * @returns A promise that settles when the pool is idle (or at once
   * without `wait`).
   *
   * @example
   * ```ts
   * import { ThreadPoolExecutor } from "@concurrent/futures";
   *
   * const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
   * const first = pool.submit(() => 1);
   * const second = pool.submit(() => 2);
   * await pool.shutdown({ cancelFutures: true });
   * console.assert(second.cancelled() || second.done());
   * ```
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = options;
    this.#gate.shut();
    if (cancelFutures) {
      for (const item of this.#queue.takeAll()) item.future.cancel();
    }
    if (!wait || this.#idleNow()) return Promise.resolve();
    this.#quiet ??= Promise.withResolvers();
    return this.#quiet.promise;
  }

  /**
   * The pool's load; see `Executor.stats()`. `workers` are the slots made
   * so far (they last as long as the pool, as threads would), `idle` those
   * waiting for a call.
   *
   * @returns The counts of workers and calls.
   *
   * @example
   * ```ts
   * import { ThreadPoolExecutor } from "@concurrent/futures";
   *
   * await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
   * await pool.submit(() => "done");
   * const { workers, idle, completed } = pool.stats();
   * console.assert(workers === 1 && idle === 1 && completed === 1);
   * ```
   */
  stats(): ExecutorStats {
    const { running, completed, failed } = this.#counts;
    const gone = this.#gate.shutDown && this.#busy === 0;
    return {
      workers: gone ? 0 : this.#slots,
      idle: gone ? 0 : this.#idle.length,
      running,
      queued: this.#queue.sum((item) => item.future.done() ? 0 : 1),
      completed,
      failed,
    };
  }

  /** Throws what `submit()` would throw now. */
  protected override assertOpen(): void {
    this.#gate.assertOpen();
  }

  /** Gives the queue a slot: an idle one, else a new one if allowed. */
  #wakeSlot(): void {
    let slot = this.#idle.pop();
    if (slot === undefined) {
      if (this.#slots === this.#maxWorkers) return;
      this.#slots++;
      slot = new Slot(
        this.#host,
        this.#counts,
        this.#initializer,
        this.#initargs,
      );
    }
    this.#busy++;
    queueMicrotask(slot.wake);
  }

  #idleNow(): boolean {
    return this.#busy === 0 && this.#queue.length === 0;
  }

  /** Fails every queued call and refuses new ones. */
  #break(error: unknown): void {
    const broken = () => new BrokenThreadPool(BROKEN_MESSAGE, { cause: error });
    if (!this.#gate.break(broken)) return;
    for (const item of this.#queue.takeAll()) {
      if (item.future.done()) continue;
      this.#counts.failed++;
      item.future.setException(broken());
    }
  }

  /** Ends a call of `run()` that hit its limit: a queued one is cancelled,
   * a running one fails with `reason` and frees its slot. */
  #interrupt(item: WorkItem, reason: unknown): void {
    const future = item.future;
    if (!future.running()) {
      future.cancel();
      return;
    }
    this.#counts.failed++;
    future.setException(reason);
    item.slot?.release(future);
  }

  /** What a slot may reach of its pool. */
  readonly #host: SlotHost = {
    take: () => this.#gate.broken ? undefined : this.#queue.shift(),
    rest: (slot) => {
      this.#busy--;
      if (!this.#gate.broken) this.#idle.push(slot);
      if (this.#idleNow() && this.#quiet !== undefined) {
        this.#quiet.resolve();
      }
    },
    fail: (error) => this.#break(error),
  };
}

/** The pool's tallies of calls, which its slots keep. */
interface CallCounts {
  running: number;
  completed: number;
  failed: number;
}

interface SlotHost {
  /** The next call to run, or `undefined` when there is none. */
  take(): WorkItem | undefined;
  /** The slot has nothing to do. */
  rest(slot: Slot): void;
  /** The slot's initializer failed. */
  fail(error: unknown): void;
}

/**
 * One worker slot: runs calls one after another while the queue has any.
 * Sync calls run back to back in a loop; an async call parks the slot until
 * it settles, through handlers made once per slot rather than per call.
 */
class Slot {
  readonly #host: SlotHost;
  readonly #counts: CallCounts;
  #initializer: ((...args: unknown[]) => unknown) | undefined;
  readonly #initargs: readonly unknown[];
  #current: Future<unknown> | undefined;

  constructor(
    host: SlotHost,
    counts: CallCounts,
    initializer: ((...args: unknown[]) => unknown) | undefined,
    initargs: readonly unknown[],
  ) {
    this.#host = host;
    this.#counts = counts;
    this.#initializer = initializer;
    this.#initargs = initargs;
  }

  readonly wake = (): void => {
    const initializer = this.#initializer;
    if (initializer === undefined) return this.#runQueued();
    this.#initializer = undefined;
    let started: unknown;
    try {
      started = initializer(...this.#initargs);
    } catch (error) {
      return this.#fail(error);
    }
    if (isThenable(started)) {
      Promise.resolve(started).then(
        () => this.#runQueued(),
        (e) => this.#fail(e),
      );
    } else this.#runQueued();
  };

  readonly #fulfilled = (value: unknown): void => {
    settle(this.#counts, this.#current!, true, value);
    this.#runQueued();
  };

  readonly #rejected = (error: unknown): void => {
    settle(this.#counts, this.#current!, false, error);
    this.#runQueued();
  };

  #runQueued(): void {
    for (let item = this.#host.take(); item; item = this.#host.take()) {
      const future = item.future;
      // Finished by hand while queued: nothing to run (CPython's worker
      // thread dies on it and the pool hangs).
      if (future.done() || !future.setRunningOrNotifyCancel()) continue;
      this.#counts.running++;
      let value: unknown;
      try {
        item.limits?.started();
        value = call(item.fn, item.args);
      } catch (error) {
        settle(this.#counts, future, false, error);
        continue;
      }
      if (item.limits !== undefined && isThenable(value)) {
        this.#awaitLimited(item, value);
        return;
      }
      if (value instanceof Promise) {
        this.#current = future;
        value.then(this.#fulfilled, this.#rejected);
        return;
      }
      if (isThenable(value)) {
        this.#current = future;
        Promise.resolve(value).then(this.#fulfilled, this.#rejected);
        return;
      }
      settle(this.#counts, future, true, value);
    }
    this.#current = undefined;
    this.#host.rest(this);
  }

  /** Awaits a call of `run()` with handlers of its own, so that the slot
   * can move on without it (`release()`) and ignore its late settlement. */
  #awaitLimited(item: WorkItem, value: PromiseLike<unknown>): void {
    const future = item.future;
    item.slot = this;
    this.#current = future;
    // Once released, the slot has counted the call as ended already.
    const finish = (ok: boolean) => (outcome: unknown): void => {
      if (this.#current !== future) return;
      settle(this.#counts, future, ok, outcome);
      this.#runQueued();
    };
    Promise.resolve(value).then(finish(true), finish(false));
  }

  /** Stops waiting for the call of `future`, which is done: the slot takes
   * the next call. */
  release(future: Future<unknown>): void {
    if (this.#current !== future) return;
    this.#current = undefined;
    this.#counts.running--;
    // Not at once: one abort may stop the queued calls sharing its signal
    // too, and its listeners must all run before the slot takes one.
    queueMicrotask(() => this.#runQueued());
  }

  #fail(error: unknown): void {
    this.#host.fail(error);
    this.#host.rest(this);
  }
}

/** `fn(...args)`, without the cost of a spread for the common arities. */
function call(fn: (...args: unknown[]) => unknown, args: unknown[]): unknown {
  switch (args.length) {
    case 0:
      return fn();
    case 1:
      return fn(args[0]);
    case 2:
      return fn(args[0], args[1]);
    default:
      return fn(...args);
  }
}

/** Ends a running call: finishes its future, unless someone outside
 * already did, and counts it. */
function settle(
  counts: CallCounts,
  future: Future<unknown>,
  ok: boolean,
  value: unknown,
): void {
  counts.running--;
  if (future.done()) return;
  if (ok) {
    counts.completed++;
    future.setResult(value);
  } else {
    counts.failed++;
    future.setException(value);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function";
}
