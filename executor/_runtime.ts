/**
 * The runtime this process runs on, detected once, and the few facts about
 * the current process that a worker command line needs. This is the only
 * module outside the spawn adapters that reads `Deno` or `Bun`, and it does so
 * defensively: importing it never throws, whatever the runtime.
 *
 * @module
 */

/** A runtime that can run worker subprocesses. */
export type RuntimeName = "deno" | "bun";

/** One of Deno's permission names. */
export type DenoPermissionName =
  | "read"
  | "write"
  | "net"
  | "env"
  | "run"
  | "ffi"
  | "sys"
  | "import";

/** The names of Deno's permissions, in the order their flags are written. */
export const DENO_PERMISSION_NAMES: readonly DenoPermissionName[] = [
  "read",
  "write",
  "net",
  "env",
  "run",
  "ffi",
  "sys",
  "import",
];

interface MaybeRuntimes {
  readonly Bun?: unknown;
  readonly Deno?: { readonly Command?: unknown };
  readonly process?: { readonly execPath?: string };
  readonly navigator?: { readonly userAgent?: string };
}

const globals = globalThis as MaybeRuntimes;

function detect(): RuntimeName | undefined {
  // Bun first: a `Deno` shim can be installed on Bun, never the reverse.
  if (typeof globals.Bun === "object" && globals.Bun !== null) return "bun";
  if (typeof globals.Deno?.Command === "function") return "deno";
  return undefined;
}

/** The runtime this process runs on, or `undefined` when it is neither
 * Deno nor Bun. */
export const currentRuntime: RuntimeName | undefined = detect();

/**
 * The current runtime, or a clear error for the feature that needs one.
 *
 * @param what The feature that needs subprocesses, e.g. `"ProcessPoolExecutor"`.
 * @returns The current runtime.
 * @throws {Error} When this runtime is neither Deno nor Bun.
 */
export function requireRuntime(what: string): RuntimeName {
  if (currentRuntime !== undefined) return currentRuntime;
  const agent = globals.navigator?.userAgent ?? "unknown";
  throw new Error(
    `${what} requires Deno or Bun, and this runtime (${agent}) is neither`,
  );
}

/**
 * The path of the executable running this process (`deno` or `bun`).
 *
 * @returns The executable's absolute path.
 */
export function executablePath(): string {
  if (currentRuntime === "deno") return Deno.execPath();
  const path = globals.process?.execPath;
  if (path === undefined) throw new Error("the executable path is unknown");
  return path;
}

/**
 * The Deno permissions this process holds in full.
 *
 * A permission granted for some paths or hosts only (`--allow-read=./data`)
 * is reported as not held: Deno does not say which ones were granted.
 *
 * @returns `"all"` under Bun (which has no permissions) or when every
 * permission is granted, else the names of the granted ones.
 */
export function heldPermissions(): "all" | readonly DenoPermissionName[] {
  if (currentRuntime !== "deno") return "all";
  const held = DENO_PERMISSION_NAMES.filter((name) =>
    Deno.permissions.querySync({ name }).state === "granted"
  );
  return held.length === DENO_PERMISSION_NAMES.length ? "all" : held;
}

/**
 * The Deno config file that governs this process's main module: the nearest
 * `deno.json` or `deno.jsonc` in its directory or above, found the way Deno
 * itself finds it. Directories this process may not read end the search
 * silently rather than raising a permission prompt.
 *
 * @returns The config file's URL, or `undefined` when there is none, when the
 * main module is not a local file, or when not running under Deno.
 */
export function mainModuleConfig(): URL | undefined {
  if (currentRuntime !== "deno") return undefined;
  let dir = new URL(".", Deno.mainModule);
  if (dir.protocol !== "file:") return undefined;
  for (;;) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const file = new URL(name, dir);
      if (
        Deno.permissions.querySync({ name: "read", path: file }).state !==
          "granted"
      ) {
        return undefined;
      }
      try {
        if (Deno.statSync(file).isFile) return file;
      } catch {
        // Not there (or unreadable): keep looking further up.
      }
    }
    const parent = new URL("..", dir);
    if (parent.href === dir.href) return undefined;
    dir = parent;
  }
}
