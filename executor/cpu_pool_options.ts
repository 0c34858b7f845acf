/**
 * `CpuPoolOptions`: the options that `ProcessPoolExecutor` and
 * `WorkerPoolExecutor` share.
 *
 * @module
 */
import type { OnWorkerDeath } from "./_engine.ts";
import type { WorkerPermissions } from "./_deno_permissions.ts";

export type { OnWorkerDeath } from "./_engine.ts";
export type {
  DenoPermissionName,
  PermissionGrant,
  WorkerPermissions,
} from "./_deno_permissions.ts";

/**
 * The options both CPU pools take: the process pool's workers are
 * subprocesses, the worker pool's are Web Workers (threads of this
 * process).
 *
 * @example A pool whose workers load a module of tasks
 * ```ts
 * import { type CpuPoolOptions, WorkerPoolExecutor } from "@concurrent/futures";
 *
 * const options: CpuPoolOptions = {
 *   maxWorkers: 2,
 *   maxTasksPerChild: 1000,
 *   onWorkerDeath: "replace",
 * };
 * await using pool = new WorkerPoolExecutor(options);
 * console.assert(pool.maxWorkers === 2);
 * ```
 */
export interface CpuPoolOptions {
  /**
   * How many workers may run at once; they start on demand.
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
   * The arguments of `initializer`, sent as call arguments are: in the
   * value codec to a process, by structured clone to a thread.
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
   * directory; a name left out is not granted); ignored by Bun and Node
   * workers. The worker pool needs Deno's `--unstable-worker-options` flag
   * (or `"unstable": ["worker-options"]` in deno.json) for anything but
   * `"inherit"`: without it the constructor throws, where it can tell
   * (Linux), since Deno would end the program at the first worker.
   * @default {"inherit"} the permissions the parent holds
   */
  permissions?: WorkerPermissions;
  /**
   * What the death of a worker that owes answers does: `"break"` breaks
   * the pool, as in CPython; `"replace"` fails the call it was running with
   * `WorkerDiedError` (for a process: its exit code or signal and the last
   * lines of its stderr), sends its other calls to a new worker and goes
   * on, unless 5 workers die within 10 s, which breaks the pool.
   * @default {"break"}
   */
  onWorkerDeath?: OnWorkerDeath;
}
