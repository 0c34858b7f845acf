/**
 * Futures without executors: `Future`, `wait()`, `asCompleted()` and the
 * error classes. Import this entry point when you need only these; it loads
 * no pool code.
 *
 * @example
 * ```ts
 * import { Future, wait } from "@concurrent/futures/future";
 *
 * const future = new Future<number>();
 * setTimeout(() => future.setResult(1), 1);
 * const { done } = await wait([future]);
 * console.assert(done.has(future));
 * ```
 *
 * @module
 */
export { type DoneCallback, Future, type FutureState } from "./future.ts";
export {
  ALL_COMPLETED,
  type DoneAndNotDoneFutures,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type ReturnWhen,
  wait,
  type WaitOptions,
} from "./wait.ts";
export {
  asCompleted,
  type AsCompletedOptions,
  type CompletedFuture,
} from "./as_completed.ts";
export {
  BrokenExecutor,
  BrokenProcessPool,
  BrokenThreadPool,
  BrokenWorkerPool,
  CancelledError,
  InvalidStateError,
  ShutdownError,
  TimeoutError,
  type WorkerDeath,
  WorkerDiedError,
} from "./errors.ts";
