/**
 * What the pools need to know of the runtime they run on: whether it can
 * run them at all, and the path of its executable.
 *
 * @module
 */
import {
  currentRuntime,
  NODE_MAJOR,
  type RuntimeName,
} from "../workers/_runtime.ts";

interface MaybeRuntimes {
  readonly process?: {
    readonly execPath?: string;
    readonly versions?: { readonly node?: string };
  };
  readonly navigator?: { readonly userAgent?: string };
}

const globals = globalThis as MaybeRuntimes;

/**
 * The current runtime, or a clear error for the feature that needs one.
 *
 * @param what The feature that needs subprocesses, e.g. `"ProcessPoolExecutor"`.
 * @returns The current runtime.
 * @throws {Error} When this runtime is none of Deno, Bun and Node 22+.
 */
export function requireRuntime(what: string): RuntimeName {
  if (currentRuntime !== undefined) return currentRuntime;
  const agent = globals.navigator?.userAgent ??
    (globals.process?.versions?.node === undefined
      ? "unknown"
      : `Node ${globals.process.versions.node}`);
  throw new Error(
    `${what} requires Deno, Bun or Node ${NODE_MAJOR} or later, and this ` +
      `runtime (${agent}) is none of them`,
  );
}

/**
 * The path of the executable running this process (`deno`, `bun`, `node`).
 *
 * @returns The executable's absolute path.
 */
export function executablePath(): string {
  if (currentRuntime === "deno") return Deno.execPath();
  const path = globals.process?.execPath;
  if (path === undefined) throw new Error("the executable path is unknown");
  return path;
}
