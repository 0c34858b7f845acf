/**
 * `ProcessPoolExecutor`: calls run in long-lived worker subprocesses, for
 * CPU-bound work that must not block the event loop.
 *
 * @module
 */
import type { Future } from "../future/future.ts";
import { BrokenProcessPool } from "../future/errors.ts";
import { checkLimit, DEFAULT_MAX_FRAME_BYTES } from "../workers/_protocol.ts";
import type { RuntimeName } from "../workers/_runtime.ts";
import type { BatchValues } from "./_map.ts";
import type { BreakReason } from "./_engine.ts";
import type { CpuPoolOptions } from "./cpu_pool_options.ts";
import {
  EnginePoolExecutor,
  type PoolHost,
  type WorkerBasics,
} from "./_engine_pool_executor.ts";
import {
  checkCommand,
  checkCwd,
  checkEnv,
  checkOptions,
  checkRuntime,
  cpuCount,
} from "./_options.ts";
import { workerEntry } from "./_entry.ts";
import { requireRuntime } from "./_runtime.ts";
import { spawnFor } from "./_spawn.ts";
import {
  type CheckedPermissions,
  checkPermissions,
  type HeldPermissions,
  losesPartialGrants,
  startupPermissions,
} from "./_deno_permissions.ts";
import { checkHosts, type HostSpec } from "./_hosts.ts";
import { Fleet } from "./_fleet.ts";
import { entryArgument, workerCommand } from "./_worker_command.ts";
import { filePath } from "./_file_path.ts";
import { encodeArgs, RemoteCall } from "./_remote_call.ts";
import {
  encodeBatch,
  ProcessWorker,
  type WorkerSetup,
} from "./_process_transport.ts";
import type { WorkerListener } from "./_worker_transport.ts";

export type { RuntimeName } from "../workers/_runtime.ts";
export type {
  CpuPoolOptions,
  DenoPermissionName,
  OnWorkerDeath,
  PermissionGrant,
  WorkerPermissions,
} from "./cpu_pool_options.ts";
export type { HostSpec, HostState, HostStats } from "./_hosts.ts";

/** The options of `new ProcessPoolExecutor()`: those of
 * {@linkcode CpuPoolOptions}, and how worker processes are started. */
export interface ProcessPoolExecutorOptions extends CpuPoolOptions {
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
   * @default {undefined} `deno run <the parent's permissions>`, `bun run`
   * or `node`
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
   * The largest frame, in bytes (JSON and raw bytes of binary data), that
   * may cross the pipe: a call whose arguments or result are larger fails,
   * and the pool goes on.
   * @default {268435456} 256 MiB
   */
  maxFrameBytes?: number;
  /**
   * Machines to spread the workers over, reached with `ssh` (the user's
   * keys, `~/.ssh/config` and agent; in batch mode, with keepalive): ssh
   * destinations, or `{ host, workers?, runtime?, ssh? }`, or
   * `{ local: true, workers? }` for this machine. A remote machine needs
   * only a runtime on its PATH: the workers' code travels over the
   * connection (`env` is set there too; `cwd` and `permissions` apply on
   * this machine only, and `modules` must be importable there). A
   * machine's `workers` default to its core count, and `maxWorkers` to
   * their sum. With `onWorkerDeath:
   * "replace"`, a lost machine fails only the calls its workers held, rests
   * (1 s, doubling up to 30 s) and is tried again; the pool breaks only when
   * none can serve. Excludes `command`.
   * @default {undefined} this machine only
   */
  hosts?: readonly HostSpec[];
}

const ENTRY = workerEntry("process_worker");

const OPTIONS: readonly (keyof ProcessPoolExecutorOptions)[] = [
  "maxWorkers",
  "initializer",
  "initargs",
  "maxTasksPerChild",
  "modules",
  "permissions",
  "onWorkerDeath",
  "runtime",
  "command",
  "env",
  "cwd",
  "maxFrameBytes",
  "hosts",
];

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
 * `Bun.spawn` under Bun, `node:child_process` under Node), at most
 * `maxWorkers` at a time: real parallelism for CPU-bound work. Arguments
 * and results travel in the value codec, which keeps what `structuredClone`
 * keeps.
 *
 * A function reaches the workers by reference when it is an export of one
 * of `modules`, else by its source text, compiled once per worker: such a
 * function must be self-contained (parameters and globals only).
 *
 * Its methods (`submit`, `run`, `map`, `shutdown`, `terminateWorkers`,
 * `killWorkers`, `stats`) are those of `WorkerPoolExecutor`; stopping a
 * running call (`run()` with a timeout or signal) kills its worker process
 * with SIGKILL, so that even a busy loop ends.
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
export class ProcessPoolExecutor extends EnginePoolExecutor {
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
    const checked = checkOptions(options, OPTIONS, "ProcessPoolExecutor");
    super(checked, new ProcessHost(checked));
  }
}

/** How the process pool prepares, starts and feeds its workers. */
class ProcessHost implements PoolHost {
  readonly Broken = BrokenProcessPool;
  readonly brokenMessages = BROKEN;
  /** The machines, for a pool with `hosts`. */
  readonly machines: Fleet | undefined;
  readonly #runtime: RuntimeName;
  readonly #permissions: CheckedPermissions;
  #command: string[];
  /** Whether `"inherit"` must read the partial grants to pass them on. */
  readonly #readGrants: boolean;
  readonly #env: Readonly<Record<string, string>> | undefined;
  readonly #cwd: string | undefined;
  readonly #maxFrameBytes: number;
  #setup: WorkerSetup | undefined;
  /** The parent's partial grants, once read, for `"inherit"`. */
  #held: HeldPermissions | undefined;

  constructor(options: ProcessPoolExecutorOptions) {
    const current = requireRuntime("ProcessPoolExecutor");
    this.#maxFrameBytes = options.maxFrameBytes === undefined
      ? DEFAULT_MAX_FRAME_BYTES
      : checkLimit(options.maxFrameBytes);
    checkRuntime(options.runtime);
    this.#runtime = options.runtime ?? current;
    this.#permissions = checkPermissions(options.permissions);
    const command = checkCommand(options.command);
    const machines = checkHosts(options.hosts, this.#runtime, cpuCount());
    if (machines !== undefined && command !== undefined) {
      throw new TypeError(
        "hosts and command exclude each other: a pool across machines " +
          "makes each machine's command line itself",
      );
    }
    this.machines = machines && new Fleet(
      machines,
      (runtime) => workerCommand(runtime, ENTRY, this.#permissions, this.#held),
      ENTRY,
    );
    this.#command = command === undefined
      ? workerCommand(this.#runtime, ENTRY, this.#permissions)
      : [...command, entryArgument(ENTRY)];
    this.#readGrants = command === undefined &&
      losesPartialGrants(this.#runtime, this.#permissions);
    this.#env = checkEnv(options.env);
    const cwd = checkCwd(options.cwd);
    this.#cwd = cwd instanceof URL ? filePath(cwd) : cwd;
  }

  async prepare(basics: WorkerBasics): Promise<void> {
    const [spawn] = await Promise.all([
      spawnFor(requireRuntime("ProcessPoolExecutor")),
      this.#readGrants ? this.#passPartialGrants() : undefined,
      this.machines?.prepare(),
    ]);
    this.#setup = {
      spawn,
      command: this.#command,
      env: this.#env,
      cwd: this.#cwd,
      maxFrameBytes: this.#maxFrameBytes,
      shipping: basics.shipping,
      init: {
        t: "init",
        modules: [...basics.modules],
        maxFrameBytes: this.#maxFrameBytes,
        init: basics.initializer,
        args: basics.initializer && encodeArgs(basics.initargs),
      },
      initKey: basics.initKey,
      initBySource: basics.initBySource,
    };
  }

  /** Rewrites the command line with the partial grants of `"inherit"`,
   * where they can be read. */
  async #passPartialGrants(): Promise<void> {
    const held = await startupPermissions();
    if (held === undefined) return;
    this.#held = held;
    this.#command = workerCommand(
      this.#runtime,
      ENTRY,
      this.#permissions,
      held,
    );
  }

  start(listener: WorkerListener): ProcessWorker {
    return this.machines === undefined
      ? new ProcessWorker(this.#setup!, listener)
      : this.machines.start(this.#setup!, listener);
  }

  /** A call's arguments are encoded now, so that any the codec rejects
   * fail its own future. */
  makeCall(
    future: Future<unknown>,
    fn: (...args: never[]) => unknown,
    args: unknown[],
  ): RemoteCall {
    return new RemoteCall(future, fn, encodeArgs(args));
  }

  makeBatch(
    future: Future<BatchValues<unknown>>,
    fn: (...args: never[]) => unknown,
    columns: unknown[][],
  ): RemoteCall {
    const { args, batch } = encodeBatch(columns);
    return new RemoteCall(future, fn, args, undefined, batch);
  }
}
