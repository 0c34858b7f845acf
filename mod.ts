/**
 * Python's `concurrent.futures` for Deno, Bun and Node: run many calls at
 * once and collect their results with futures.
 *
 * - `ThreadPoolExecutor`: a bounded pool on the event loop, for async I/O.
 * - `ProcessPoolExecutor`: long-lived subprocesses (of this runtime or
 *   another), for CPU-bound work.
 * - `WorkerPoolExecutor`: long-lived Web Workers (threads in this process),
 *   for CPU-bound work with cheaper calls and transferable buffers.
 * - `Future`, `wait()`, `asCompleted()`: the futures themselves, usable
 *   with any executor or by hand.
 *
 * @example Three calls on a pool of three
 * ```ts
 * import { ThreadPoolExecutor, wait } from "@concurrent/futures";
 *
 * const myFunc = async (value: number) => {
 *   await new Promise((r) => setTimeout(r, value * 10));
 *   return value + 2;
 * };
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 3 });
 * const futures = [1, 2, 3].map((v) => pool.submit(myFunc, v));
 * const { done } = await wait(futures);
 * console.assert(done.size === 3);
 * console.log(await futures[0]); // 3
 * ```
 *
 * @module
 */
export {
  asCompleted,
  type AsCompletedOptions,
  type CompletedFuture,
} from "./future/as_completed.ts";
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
} from "./future/errors.ts";
export {
  type DoneCallback,
  Future,
  type FutureState,
} from "./future/future.ts";
export {
  ALL_COMPLETED,
  type DoneAndNotDoneFutures,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type ReturnWhen,
  wait,
  type WaitOptions,
} from "./future/wait.ts";
export {
  type BatchValues,
  Executor,
  type ExecutorStats,
  type HostState,
  type HostStats,
  type MapArguments,
  type MapInputs,
  type MapOptions,
  type RunOptions,
  type ShutdownOptions,
} from "./executor/executor.ts";
export {
  ThreadPoolExecutor,
  type ThreadPoolExecutorOptions,
} from "./executor/thread_pool_executor.ts";
export {
  type CpuPoolOptions,
  type DenoPermissionName,
  type HostSpec,
  type OnWorkerDeath,
  type PermissionGrant,
  ProcessPoolExecutor,
  type ProcessPoolExecutorOptions,
  type RuntimeName,
  type WorkerPermissions,
} from "./executor/process_pool_executor.ts";
export {
  transfer,
  WorkerPoolExecutor,
  type WorkerPoolExecutorOptions,
} from "./executor/worker_pool_executor.ts";
export { DataCloneError } from "./workers/_codec.ts";
export { FrameTooLargeError } from "./workers/_protocol.ts";
