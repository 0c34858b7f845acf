/**
 * The command line that starts a process worker: the runtime, its flags,
 * and the worker entry.
 *
 * @module
 */
import { currentRuntime, type RuntimeName } from "../workers/_runtime.ts";
import {
  type CheckedPermissions,
  denoConfigFile,
  denoPermissionFlags,
  type HeldPermissions,
} from "./_deno_permissions.ts";
import { filePath } from "./_file_path.ts";
import { executablePath } from "./_runtime.ts";

/**
 * The argv that runs the module `entry` on `runtime`.
 *
 * Deno workers run with `--quiet` (download notices would crowd the stderr
 * tail), `--no-prompt` (a prompt would hang a worker forever), `--no-lock`
 * (workers must not race to write the project's lockfile, nor be refused by
 * a frozen one), and with the parent's config file (see `denoConfigFile()`):
 * the project's import map then resolves the worker's modules as it resolves
 * the parent's, and neither the worker's cwd nor a config next to the
 * library's files has any say (`--no-config` when the parent has none).
 *
 * @param runtime The runtime the worker runs on.
 * @param entry The worker's entry module.
 * @param permissions The worker's Deno permissions, checked (ignored for
 * Bun and Node).
 * @param held What this process holds, for the `"inherit"` grants.
 * @returns The command line; `[0]` is the program.
 * @throws {Error} For a Bun or Node worker whose entry is not a local file.
 * @throws {RangeError} For permissions Deno cannot express.
 */
export function workerCommand(
  runtime: RuntimeName,
  entry: URL,
  permissions: CheckedPermissions = "inherit",
  held?: HeldPermissions,
): string[] {
  if (runtime !== "deno") {
    if (entry.protocol !== "file:") {
      throw new Error(
        `${runtime} workers need a local entry file, not ${entry.href}`,
      );
    }
    const program = currentRuntime === runtime ? executablePath() : runtime;
    // Node runs a `.ts` entry (a checkout) by stripping its types: on by
    // default from Node 22.18.
    return runtime === "bun"
      ? [program, "run", filePath(entry)]
      : [program, filePath(entry)];
  }
  const deno = currentRuntime === "deno" ? executablePath() : "deno";
  const config = denoConfigFile();
  return [
    deno,
    "run",
    "--quiet",
    "--no-prompt",
    "--no-lock",
    config === undefined ? "--no-config" : `--config=${filePath(config)}`,
    ...denoPermissionFlags(permissions, held),
    entry.href,
  ];
}

/**
 * The worker entry as the last argument of a user's own command line: a
 * path where it is a local file (which every runtime runs), else its URL.
 *
 * @param entry The worker's entry module.
 * @returns The argument.
 */
export function entryArgument(entry: URL): string {
  return entry.protocol === "file:" ? filePath(entry) : entry.href;
}
