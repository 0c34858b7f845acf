/**
 * The error classes of `@concurrent/futures`, shaped like CPython's
 * `concurrent.futures` hierarchy. Each sets `name` to its class name and
 * takes `(message?, options?)` like `Error`, so a `cause` can be attached.
 *
 * @module
 */

/**
 * The future was cancelled: `await future` and `future.result()` throw it.
 *
 * @example Telling a cancelled future apart
 * ```ts
 * import { CancelledError, Future } from "@concurrent/futures";
 *
 * const future = new Future<number>();
 * future.cancel();
 * const error = await future.result().catch((e) => e);
 * console.assert(error instanceof CancelledError);
 * ```
 */
export class CancelledError extends Error {
  /** Creates the error; `options.cause` is kept as `cause`. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CancelledError";
  }
}

/**
 * A wait ran out of time: `result(timeout)`, `exception(timeout)`,
 * `asCompleted({ timeout })` and `map({ timeout })` throw it. The future
 * itself is untouched and keeps running.
 *
 * @example Waiting at most 10 ms
 * ```ts
 * import { Future, TimeoutError } from "@concurrent/futures";
 *
 * const future = new Future<number>();
 * const error = await future.result(10).catch((e) => e);
 * console.assert(error instanceof TimeoutError);
 * ```
 */
export class TimeoutError extends Error {
  /** Creates the error; `options.cause` is kept as `cause`. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/**
 * A future was asked for a transition its state does not allow, such as
 * setting a result twice. The message starts with the current state.
 *
 * @example Setting a result twice
 * ```ts
 * import { Future, InvalidStateError } from "@concurrent/futures";
 *
 * const future = new Future<number>();
 * future.setResult(1);
 * try {
 *   future.setResult(2);
 * } catch (error) {
 *   console.assert(error instanceof InvalidStateError);
 * }
 * ```
 */
export class InvalidStateError extends Error {
  /** Creates the error; `options.cause` is kept as `cause`. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidStateError";
  }
}

/**
 * Work was submitted to an executor after `shutdown()` (CPython raises
 * `RuntimeError` here).
 *
 * @example Submitting after shutdown
 * ```ts
 * import { ShutdownError, ThreadPoolExecutor } from "@concurrent/futures";
 *
 * const pool = new ThreadPoolExecutor();
 * await pool.shutdown();
 * try {
 *   pool.submit(() => 1);
 * } catch (error) {
 *   console.assert(error instanceof ShutdownError);
 * }
 * ```
 */
export class ShutdownError extends Error {
  /** Creates the error, by default with CPython's message; `options.cause`
   * is kept as `cause`. */
  constructor(
    message = "cannot schedule new futures after shutdown",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "ShutdownError";
  }
}

/**
 * An executor can no longer run work: its pending futures fail with it and
 * later `submit()` calls throw it. The pool-specific subclasses say which.
 *
 * @example Catching any broken pool
 * ```ts
 * import { BrokenExecutor, ThreadPoolExecutor } from "@concurrent/futures";
 *
 * const pool = new ThreadPoolExecutor({
 *   initializer: () => {
 *     throw new Error("no database");
 *   },
 * });
 * const error = await pool.submit(() => 1).result().catch((e) => e);
 * console.assert(error instanceof BrokenExecutor);
 * ```
 */
export class BrokenExecutor extends Error {
  /** Creates the error; `options.cause` is kept as `cause`. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenExecutor";
  }
}

/**
 * A `ThreadPoolExecutor` is broken: a worker slot's initializer failed. The
 * initializer's exception is the `cause`.
 *
 * @example
 * ```ts
 * import { BrokenThreadPool, ThreadPoolExecutor } from "@concurrent/futures";
 *
 * const pool = new ThreadPoolExecutor({
 *   initializer: () => {
 *     throw new Error("no database");
 *   },
 * });
 * const error = await pool.submit(() => 1).exception();
 * console.assert(error instanceof BrokenThreadPool);
 * ```
 */
export class BrokenThreadPool extends BrokenExecutor {
  /** Creates the error; `options.cause` is kept as `cause`. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenThreadPool";
  }
}

/**
 * A `ProcessPoolExecutor` is broken: a worker process died, wrote bytes that
 * are not a frame, or its initializer failed.
 *
 * @example
 * ```ts
 * import { BrokenExecutor, BrokenProcessPool } from "@concurrent/futures";
 *
 * const error = new BrokenProcessPool("a worker exited with code 1");
 * console.assert(error instanceof BrokenExecutor);
 * ```
 */
export class BrokenProcessPool extends BrokenExecutor {
  /** Creates the error; `options.cause` is kept as `cause`. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenProcessPool";
  }
}

/**
 * A `WorkerPoolExecutor` is broken: a worker thread threw outside any task,
 * closed itself or was terminated. The worker's error is the `cause`.
 *
 * @example
 * ```ts
 * import { BrokenExecutor, BrokenWorkerPool } from "@concurrent/futures";
 *
 * const error = new BrokenWorkerPool("a worker closed itself");
 * console.assert(error instanceof BrokenExecutor);
 * ```
 */
export class BrokenWorkerPool extends BrokenExecutor {
  /** Creates the error; `options.cause` is kept as `cause`. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenWorkerPool";
  }
}

/** How a worker ended, as {@linkcode WorkerDiedError} carries it. */
export interface WorkerDeath {
  /** The worker process's exit code, or `null` when a signal ended it or
   * there is none (a thread that was terminated). */
  readonly exitCode: number | null;
  /** The signal that ended the worker process (`"SIGKILL"`), or `null`. */
  readonly signal: string | null;
  /** The last lines the worker process wrote on stderr (at most 20, at
   * most 8 KiB); `""` for a thread, whose stderr is this process's. */
  readonly stderr: string;
  /** The host the worker ran on, for a pool across machines; `undefined`
   * for this machine. */
  readonly host?: string | undefined;
}

/**
 * A worker of a process or worker pool created with `onWorkerDeath:
 * "replace"` died while it held this call: it exited, was killed by a
 * signal or its thread ended. The message says how, with the last lines the
 * worker wrote on stderr, which the error also carries as fields; the pool
 * goes on with a fresh worker.
 *
 * @example Telling a crash apart from the call's own error
 * ```ts
 * import { WorkerDiedError } from "@concurrent/futures";
 *
 * const error = new WorkerDiedError("worker 42 was killed by SIGKILL", {
 *   signal: "SIGKILL",
 * });
 * console.assert(error.name === "WorkerDiedError");
 * console.assert(error.signal === "SIGKILL" && error.exitCode === null);
 * ```
 */
export class WorkerDiedError extends Error implements WorkerDeath {
  /** The exit code, or `null`; see {@linkcode WorkerDeath}. */
  readonly exitCode: number | null;
  /** The signal that ended the worker, or `null`. */
  readonly signal: string | null;
  /** The last lines the worker wrote on stderr. */
  readonly stderr: string;
  /** The host it ran on; `undefined` for this machine. */
  readonly host: string | undefined;

  /** Creates the error; `options.cause` is kept as `cause`, the rest of
   * `options` as the fields of the same names. */
  constructor(
    message?: string,
    options?: ErrorOptions & Partial<WorkerDeath>,
  ) {
    super(message, options);
    this.name = "WorkerDiedError";
    this.exitCode = options?.exitCode ?? null;
    this.signal = options?.signal ?? null;
    this.stderr = options?.stderr ?? "";
    this.host = options?.host;
  }
}
