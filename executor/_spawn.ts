/**
 * The one interface the process pool uses to run worker subprocesses, and the
 * command lines that start them. The runtime-specific halves live in
 * `_spawn_deno.ts`, `_spawn_bun.ts` and `_spawn_node.ts`, loaded only on the
 * runtime they serve.
 *
 * @module
 */
import {
  currentRuntime,
  DENO_PERMISSION_NAMES,
  type DenoPermissionName,
  executablePath,
  type HeldPermissions,
  heldPermissions,
  mainModuleConfig,
  type RuntimeName,
} from "./_runtime.ts";

/** How a child process ended: an exit code, or the signal that killed it. */
export interface ChildExit {
  /** The exit code, or `null` when a signal ended the process. */
  readonly code: number | null;
  /** The signal's name (`"SIGKILL"`), or `null` when the process exited. */
  readonly signal: string | null;
}

/** What to run and where its output goes. */
export interface SpawnOptions {
  /** The command line; `command[0]` is the program, looked up on `PATH`. */
  readonly command: readonly string[];
  /** Variables added to the parent's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** The working directory; the parent's by default. */
  readonly cwd?: string;
  /** Called with each stdout chunk, in order. The chunk is the callee's to
   * keep. Must not throw: an exception is rethrown as an uncaught error. */
  readonly onStdout: (chunk: Uint8Array) => void;
  /** Called once, after the child exited and its stdout and stderr were
   * drained (so {@linkcode ChildProcess.stderrTail} is complete). */
  readonly onExit: (exit: ChildExit) => void;
}

/** A running child process whose stdin, stdout and stderr are pipes. */
export interface ChildProcess {
  /** The operating system's process id. */
  readonly pid: number;
  /** Queues bytes on stdin, in order; chunks queued together go out in one
   * write. Never throws: a dead child is reported through `onExit`. The
   * caller must not modify `bytes` afterwards. */
  write(bytes: Uint8Array): void;
  /** Closes stdin once the queued bytes are written: the worker reads EOF. */
  closeStdin(): void;
  /** Sends a signal; does nothing once the child has exited. */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
  /** Lets this child (and its pipes) keep the parent's event loop alive. */
  ref(): void;
  /** Stops this child (and its pipes) from keeping the parent alive. */
  unref(): void;
  /** The last lines (at most 20, at most 8 KiB) the child wrote to stderr.
   * Everything it writes there is also forwarded to the parent's stderr. */
  stderrTail(): string;
}

/** Starts a child process; throws an `Error` when it cannot be started. */
export type Spawn = (options: SpawnOptions) => ChildProcess;

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

/** How a worker gets one Deno permission: as the parent holds it
 * (`"inherit"`), fully (`true`), not at all (`false`), or for the listed
 * paths, hosts or names only. */
export type PermissionGrant = "inherit" | boolean | readonly (string | URL)[];

/** A worker's Deno permissions, in the shape of `Deno.PermissionOptions`:
 * `"inherit"` (what the parent holds), `"none"`, or one grant per name
 * (a missing name is not granted). */
export type WorkerPermissions =
  | "inherit"
  | "none"
  | { readonly [name in DenoPermissionName]?: PermissionGrant };

/**
 * The argv that runs the module `entry` on `runtime`.
 *
 * Deno workers run with `--quiet` (download notices would crowd the stderr
 * tail), `--no-prompt` (a prompt would hang a worker forever), `--no-lock`
 * (workers must not race to write the project's lockfile, nor be refused by
 * a frozen one), and with the parent's config file, found from its main
 * module the way Deno finds it: the project's import map then resolves the
 * worker's modules as it resolves the parent's, and neither the worker's cwd
 * nor a config next to the library's files has any say (`--no-config` when
 * the parent has none).
 *
 * @param runtime The runtime the worker runs on.
 * @param entry The worker's entry module.
 * @param permissions The worker's Deno permissions (ignored for Bun and
 * Node).
 * @param held What this process holds, for the `"inherit"` grants.
 * @returns The command line; `[0]` is the program.
 * @throws {Error} For a Bun or Node worker whose entry is not a local file.
 * @throws {TypeError | RangeError} For permissions Deno cannot express.
 */
export function workerCommand(
  runtime: RuntimeName,
  entry: URL,
  permissions?: WorkerPermissions,
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
  const config = mainModuleConfig();
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
 * Whether a Deno worker given `permissions` by this process would lose what
 * `"inherit"` should pass on: a partial grant (`--allow-read=.`), which
 * Deno's API does not report (`startupPermissions()` reads them).
 *
 * @param runtime The runtime the worker runs on.
 * @param permissions The worker's permissions.
 * @returns `true` when some permission is inherited and this Deno does not
 * hold them all.
 */
export function losesPartialGrants(
  runtime: RuntimeName,
  permissions: WorkerPermissions = "inherit",
): boolean {
  if (runtime !== "deno" || currentRuntime !== "deno") return false;
  const inherits = permissions === "inherit" ||
    (typeof permissions === "object" &&
      Object.values(permissions).includes("inherit"));
  return inherits && heldPermissions() !== "all";
}

/**
 * The `deno run` flags that grant `permissions`.
 *
 * @param permissions The worker's permissions; `"inherit"` by default.
 * @param held What this process holds, for `"inherit"`: its flags are
 * passed on as they are.
 * @returns The flags: `-A` when everything is granted.
 * @throws {TypeError} For an unknown permission name or grant.
 * @throws {RangeError} For a value with a comma, which Deno cannot express.
 */
export function denoPermissionFlags(
  permissions: WorkerPermissions = "inherit",
  held: HeldPermissions = heldPermissions(),
): string[] {
  if (permissions === "none") return [];
  const grants: WorkerPermissions = permissions === "inherit"
    ? Object.fromEntries(DENO_PERMISSION_NAMES.map((n) => [n, "inherit"]))
    : permissions;
  for (const name of Object.keys(grants)) {
    if (!(DENO_PERMISSION_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`unknown Deno permission "${name}"`);
    }
  }
  const flags: string[] = [];
  let full = 0;
  for (const name of DENO_PERMISSION_NAMES) {
    const grant = grants[name];
    const all = `--allow-${name}`;
    if (grant === true) {
      flags.push(all);
      full++;
    } else if (grant === "inherit") {
      const inherited = held === "all" ? [all] : held[name] ?? [];
      flags.push(...inherited);
      if (inherited.length === 1 && inherited[0] === all) full++;
    } else if (Array.isArray(grant)) {
      if (grant.length > 0) {
        const values = grant.map((value) => permissionValue(name, value));
        flags.push(`--allow-${name}=${values.join(",")}`);
      }
    } else if (grant !== undefined && grant !== false) {
      throw new TypeError(
        `the "${name}" permission must be "inherit", a boolean or a list`,
      );
    }
  }
  return full === DENO_PERMISSION_NAMES.length ? ["-A"] : flags;
}

function permissionValue(name: string, value: string | URL): string {
  const text = value instanceof URL ? filePath(value) : String(value);
  // Deno splits these flags on commas and its `,,` escape does not work.
  if (text.includes(",")) {
    throw new RangeError(
      `Deno cannot grant "${name}" for "${text}": the value contains a comma`,
    );
  }
  return text;
}

/**
 * The file system path of a `file:` URL.
 *
 * @param url A `file:` URL.
 * @returns Its path, with Windows drive letters kept as `C:\…`.
 * @throws {TypeError} For any other kind of URL.
 */
export function filePath(url: URL): string {
  if (url.protocol !== "file:") {
    throw new TypeError(`not a file URL: ${url.href}`);
  }
  const path = decodeURIComponent(url.pathname);
  return /^\/[A-Za-z]:\//.test(path)
    ? path.slice(1).replaceAll("/", "\\")
    : path;
}

const TAIL_LINES = 20;
const TAIL_BYTES = 8 * 1024;

/** The last lines a child wrote to stderr, kept within 8 KiB. For adapters. */
export class StderrTail {
  #chunks: Uint8Array[] = [];
  #bytes = 0;

  /** Appends a chunk, forgetting whole chunks beyond the byte budget. */
  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes - this.#chunks[0].length >= TAIL_BYTES) {
      this.#bytes -= this.#chunks.shift()!.length;
    }
  }

  /** The last lines, without a trailing newline. */
  text(): string {
    const bytes = new Uint8Array(this.#bytes);
    let offset = 0;
    for (const chunk of this.#chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    const start = Math.max(0, bytes.length - TAIL_BYTES);
    const text = new TextDecoder().decode(bytes.subarray(start)).trimEnd();
    const lines = text.split("\n");
    // A line cut by the byte budget is dropped rather than shown half,
    // unless it is the only one.
    if (start > 0 && bytes[start - 1] !== 10 && lines.length > 1) {
      lines.shift();
    }
    return lines.slice(-TAIL_LINES).join("\n");
  }
}

/**
 * The error for a program that could not be started. For adapters.
 *
 * @param program The program that was run.
 * @param cause What the runtime threw.
 * @returns An `Error` naming the program, with `cause`.
 */
export function spawnError(program: string, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`cannot start ${program}: ${reason}`, { cause });
}

/**
 * Rethrows a callback's exception as an uncaught error, so that a bug in a
 * callback is loud while the adapter's read loops keep their invariants.
 * For adapters.
 *
 * @param error What the callback threw.
 */
export function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/** How long an exited child's pipes may stay open (held by a grandchild
 * that inherited them) before the adapter stops waiting for their EOF. */
export const DRAIN_GRACE_MS = 500;

/**
 * Waits for `drained`, giving up after {@linkcode DRAIN_GRACE_MS}: then
 * `abandon()` must end the reads, and `drained` settles. For adapters.
 *
 * @param drained Fulfils when stdout and stderr reached EOF; never rejects.
 * @param abandon Cancels the reads.
 */
export async function drainWithGrace(
  drained: Promise<unknown>,
  abandon: () => void,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), DRAIN_GRACE_MS);
  });
  try {
    const first = await Promise.race([drained.then(() => "drained"), late]);
    if (first === "late") abandon();
    await drained;
  } finally {
    clearTimeout(timer);
  }
}
