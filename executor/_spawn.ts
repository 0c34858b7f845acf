/**
 * Loads the spawn adapter of the runtime this process runs on: only that
 * one, so that no runtime loads another's.
 *
 * @module
 */
import { currentRuntime, type RuntimeName } from "../workers/_runtime.ts";
import type { Spawn } from "./_child_process.ts";

/**
 * Loads the spawn adapter of the runtime this process runs on. Children are
 * always started by the current runtime, whatever runtime they run.
 *
 * @param runtime The runtime this process runs on, from `requireRuntime()`.
 * @returns The adapter's spawn function.
 * @throws {Error} When `runtime` is not the current runtime.
 */
export function spawnFor(runtime: RuntimeName): Promise<Spawn> {
  if (runtime !== currentRuntime) {
    return Promise.reject(
      new Error(
        `cannot start subprocesses with ${runtime} from ${
          currentRuntime ?? "this runtime"
        }: pass the current runtime, workerCommand() picks the worker's`,
      ),
    );
  }
  // Literal specifiers: Deno lets a process without read permission load
  // them, and no runtime loads another's adapter.
  switch (runtime) {
    case "deno":
      return import("./_spawn_deno.ts").then((adapter) => adapter.spawn);
    case "bun":
      return import("./_spawn_bun.ts").then((adapter) => adapter.spawn);
    case "node":
      return import("./_spawn_node.ts").then((adapter) => adapter.spawn);
  }
}
