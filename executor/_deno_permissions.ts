/**
 * Every Deno permission the pools deal in: the `permissions` option (in the
 * shape of `Deno.PermissionOptions`), checked once for both CPU pools; the
 * `deno run` flags that grant it to a process worker; the `deno.permissions`
 * option that grants it to a Web Worker; and what this process itself holds
 * and was started with, which `"inherit"` passes on.
 *
 * Deno's API reports only the permissions held in full. What else a worker
 * needs to know, this module reads from the process's command line and its
 * config file, each once: a partial grant (`--allow-read=./data`) that
 * `"inherit"` must pass on, the `--config` that a process worker must use,
 * and `--unstable-worker-options`, without which Deno ends the whole process
 * when a Web Worker is given permissions.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { currentRuntime, type RuntimeName } from "../workers/_runtime.ts";
import { filePath } from "./_file_path.ts";
import { describe } from "./_options.ts";

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

/** The permissions whose values are paths, which Deno resolves against the
 * directory it started in. */
const PATH_PERMISSIONS: readonly DenoPermissionName[] = [
  "read",
  "write",
  "ffi",
];

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

/** A permission grant, checked: values are strings, paths absolute. */
type Grant = "inherit" | boolean | readonly string[];

/** Permissions, checked: `"inherit"`, `"none"`, or a grant for every name. */
export type CheckedPermissions =
  | "inherit"
  | "none"
  | Readonly<Record<DenoPermissionName, Grant>>;

/** The permissions a Deno process holds: all of them, or for each one the
 * flags that grant it (`--allow-read`, `--allow-read=/data`,
 * `--deny-env=HOME`); a missing name is not granted. */
export type HeldPermissions =
  | "all"
  | { readonly [name in DenoPermissionName]?: readonly string[] };

/**
 * Checks a pool's `permissions` option, at construction.
 *
 * @param permissions The option.
 * @returns The permissions, path values made absolute against the current
 * directory (as the pool's own code sees them).
 * @throws {TypeError} For anything but `"inherit"`, `"none"` or an object of
 * grants, an unknown permission name, or a grant that is none of
 * `"inherit"`, a boolean and a list.
 */
export function checkPermissions(
  permissions: unknown = "inherit",
): CheckedPermissions {
  if (permissions === "inherit" || permissions === "none") return permissions;
  if (
    typeof permissions !== "object" || permissions === null ||
    Array.isArray(permissions)
  ) {
    throw new TypeError(
      'permissions must be "inherit", "none" or an object of grants such ' +
        `as { read: ["./data"], net: false }, got ${describe(permissions)}`,
    );
  }
  for (const name of Object.keys(permissions)) {
    if (!(DENO_PERMISSION_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`unknown Deno permission "${name}"`);
    }
  }
  const grants = permissions as Record<string, unknown>;
  const checked = {} as Record<DenoPermissionName, Grant>;
  for (const name of DENO_PERMISSION_NAMES) {
    const grant = grants[name] ?? false;
    if (grant === true || grant === false || grant === "inherit") {
      checked[name] = grant;
    } else if (Array.isArray(grant)) {
      checked[name] = grant.map((value) => grantValue(name, value));
    } else {
      throw new TypeError(
        `the "${name}" permission must be "inherit", a boolean or a list, ` +
          `got ${describe(grant)}`,
      );
    }
  }
  return checked;
}

/** One value of a list grant: relative paths resolve against the current
 * directory, as the pool's own code sees them (Deno would resolve them
 * against the worker's directory, or its entry module). */
function grantValue(name: DenoPermissionName, value: unknown): string {
  if (typeof value !== "string" && !(value instanceof URL)) {
    throw new TypeError(
      `the "${name}" permission lists ${describe(value)}: list strings or URLs`,
    );
  }
  if (!PATH_PERMISSIONS.includes(name)) return String(value);
  const path = value instanceof URL ? filePath(value) : value;
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}

// ---------------------------------------------------------------------------
// Process workers: `deno run` flags.

/**
 * The `deno run` flags that grant `permissions`.
 *
 * @param permissions The worker's permissions, checked.
 * @param held What this process holds, for `"inherit"`: its flags are
 * passed on as they are.
 * @returns The flags: `-A` when everything is granted.
 * @throws {RangeError} For a value with a comma, which Deno cannot express.
 */
export function denoPermissionFlags(
  permissions: CheckedPermissions = "inherit",
  held: HeldPermissions = heldPermissions(),
): string[] {
  if (permissions === "none") return [];
  const flags: string[] = [];
  let full = 0;
  for (const name of DENO_PERMISSION_NAMES) {
    const grant = permissions === "inherit" ? "inherit" : permissions[name];
    const all = `--allow-${name}`;
    if (grant === true) {
      flags.push(all);
      full++;
    } else if (grant === "inherit") {
      const inherited = held === "all" ? [all] : held[name] ?? [];
      flags.push(...inherited);
      if (inherited.length === 1 && inherited[0] === all) full++;
    } else if (grant !== false && grant.length > 0) {
      // Deno splits these flags on commas and its `,,` escape does not work.
      const comma = grant.find((value) => value.includes(","));
      if (comma !== undefined) {
        throw new RangeError(
          `Deno cannot grant "${name}" for "${comma}": the value contains a comma`,
        );
      }
      flags.push(`${all}=${grant.join(",")}`);
    }
  }
  return full === DENO_PERMISSION_NAMES.length ? ["-A"] : flags;
}

/**
 * Whether a Deno worker given `permissions` by this process would lose what
 * `"inherit"` should pass on: a partial grant (`--allow-read=.`), which
 * Deno's API does not report ({@linkcode startupPermissions} reads them).
 *
 * @param runtime The runtime the worker runs on.
 * @param permissions The worker's permissions, checked.
 * @returns `true` when some permission is inherited and this Deno does not
 * hold them all.
 */
export function losesPartialGrants(
  runtime: RuntimeName,
  permissions: CheckedPermissions,
): boolean {
  if (runtime !== "deno" || currentRuntime !== "deno") return false;
  const inherits = permissions === "inherit" ||
    (typeof permissions === "object" &&
      Object.values(permissions).includes("inherit"));
  return inherits && heldPermissions() !== "all";
}

// ---------------------------------------------------------------------------
// Web Workers: the `deno.permissions` option.

/**
 * The `deno.permissions` option of the worker pool's Web Workers.
 *
 * @param permissions The pool's permissions, checked.
 * @returns The option, or `undefined` when the workers inherit the
 * parent's permissions (Deno's default, which needs no flag) or when not
 * running under Deno.
 * @throws {Error} When this Deno runs without `--unstable-worker-options`,
 * or when it cannot tell (then Deno might end the process instead).
 */
export function workerPermissions(
  permissions: CheckedPermissions,
): Deno.PermissionOptions | undefined {
  if (currentRuntime !== "deno" || permissions === "inherit") return undefined;
  const flag = unstableWorkerOptions();
  if (flag !== true) {
    const how = 'Deno\'s --unstable-worker-options flag (or `"unstable": ' +
      '["worker-options"]` in deno.json)';
    throw new Error(
      flag === false
        ? `WorkerPoolExecutor's \`permissions\` need ${how}; without it ` +
          "Deno would end this process when the pool starts a worker"
        : `WorkerPoolExecutor's \`permissions\` need ${how}, and this ` +
          "process cannot tell whether it has the flag (Deno lets it read " +
          "its own command line only with -A): put the key in deno.json, " +
          "or run with -A",
    );
  }
  return permissions as Deno.PermissionOptions;
}

/**
 * Checks that this Deno may read the workers' entry module: Deno checks a
 * Worker's module against the permissions of the thread that creates it,
 * whatever permissions the worker itself gets.
 *
 * @param entry The workers' entry module.
 * @throws {Error} Naming the flag to add, when this process may not read it.
 */
export function checkEntryReadable(entry: URL): void {
  if (currentRuntime !== "deno" || entry.protocol !== "file:") return;
  if (mayRead(filePath(entry))) return;
  const folder = filePath(new URL(".", entry)).replace(/[\\/]$/, "");
  throw new Error(
    `WorkerPoolExecutor needs read access to its worker modules in ${folder}` +
      `, which this process lacks: add --allow-read=${folder} (or ` +
      "--allow-read) to the deno command line",
  );
}

/**
 * Whether Deno runs with `--unstable-worker-options`, from its command line
 * (Linux) and its config file.
 *
 * @returns `true` or `false`, or `undefined` when it cannot tell (no
 * `/proc`, no permission to read it, or a compiled program).
 */
function unstableWorkerOptions(): boolean | undefined {
  const argv = ownCommandLine();
  if (argv?.some((arg) => arg === "--unstable-worker-options")) return true;
  const config = denoConfigFile();
  if (config !== undefined && listsWorkerOptions(config)) return true;
  const program = argv?.[0]?.split(/[\\/]/).pop() ?? "";
  return argv !== undefined && /^deno(\.exe)?$/.test(program)
    ? false
    : undefined;
}

function listsWorkerOptions(config: URL): boolean {
  if (!mayRead(config)) return false;
  try {
    const text = Deno.readTextFileSync(config);
    return /"unstable"\s*:\s*\[[^\]]*"worker-options"/.test(text);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// What this process holds, and was started with.

/**
 * The Deno permissions this process holds in full, as Deno's API reports
 * them. A permission granted for some paths or hosts only
 * (`--allow-read=./data`) is missing: the API does not say which ones;
 * {@linkcode startupPermissions} can.
 *
 * @returns `"all"` under Bun and Node (which have no permissions) or when
 * every permission is granted, else one `--allow-<name>` per granted one.
 */
export function heldPermissions(): HeldPermissions {
  if (currentRuntime !== "deno") return "all";
  const held = DENO_PERMISSION_NAMES.filter((name) =>
    Deno.permissions.querySync({ name }).state === "granted"
  );
  if (held.length === DENO_PERMISSION_NAMES.length) return "all";
  return Object.fromEntries(held.map((name) => [name, [`--allow-${name}`]]));
}

/**
 * The permissions this Deno process was started with, partial grants
 * included, read from its command line. Deno lets only a process holding
 * every permission read its own command line; otherwise a short-lived
 * `deno eval` (which holds them all) reads it from `/proc`: Linux only, and
 * only with run access to the Deno executable, which a process pool needs
 * anyway.
 *
 * @returns The permissions, or `undefined` when they cannot be read.
 */
export async function startupPermissions(): Promise<
  HeldPermissions | undefined
> {
  const started = await startupCommandLine();
  if (started === undefined) return undefined;
  return parsePermissionFlags(runtimeFlags(started.argv), started.cwd);
}

/** The arguments of a Deno command line that are Deno's: `deno
 * [subcommand] flags… main-module Deno.args…` without the program, the
 * main module and the program's own arguments. */
function runtimeFlags(argv: readonly string[]): readonly string[] {
  return argv.slice(1, Math.max(1, argv.length - Deno.args.length - 1));
}

/** This process's argv and directory, from its own `/proc` entries when it
 * may read them, else through a `deno eval` that may. */
async function startupCommandLine(): Promise<
  { argv: string[]; cwd: string } | undefined
> {
  if (currentRuntime !== "deno" || Deno.build.os !== "linux") return undefined;
  const argv = ownCommandLine();
  if (argv !== undefined) return { argv, cwd: process.cwd() };
  const deno = Deno.execPath();
  if (
    Deno.permissions.querySync({ name: "run", command: deno }).state !==
      "granted"
  ) {
    return undefined;
  }
  const proc = `/proc/${Deno.pid}`;
  const read = `console.log(JSON.stringify([Deno.readTextFileSync(` +
    `"${proc}/cmdline"), Deno.readLinkSync("${proc}/cwd")]))`;
  try {
    const { success, stdout } = await new Deno.Command(deno, {
      args: ["eval", "--quiet", "--no-config", read],
      stdin: "null",
      stderr: "null",
    }).output();
    if (!success) return undefined;
    const [cmdline, cwd] = JSON.parse(new TextDecoder().decode(stdout));
    return { argv: (cmdline as string).split("\0").slice(0, -1), cwd };
  } catch {
    return undefined;
  }
}

let commandLine: { argv: string[] | undefined } | undefined;

/** This process's argv from `/proc/self/cmdline`, where it may be read
 * without a permission prompt (Deno allows it with -A only); read once. */
function ownCommandLine(): string[] | undefined {
  commandLine ??= { argv: readOwnCommandLine() };
  return commandLine.argv;
}

function readOwnCommandLine(): string[] | undefined {
  const path = "/proc/self/cmdline";
  if (currentRuntime !== "deno" || !mayRead(path)) return undefined;
  try {
    return Deno.readTextFileSync(path).split("\0").filter((arg) => arg);
  } catch {
    return undefined;
  }
}

/** One `--allow-…` or `--deny-…` flag, or one of their one-letter forms. */
function permissionFlag(arg: string):
  | { kind: string; name: DenoPermissionName; values?: string[] }
  | undefined {
  const short = /^-([A-Z])(=.*)?$/.exec(arg);
  const long = short
    ? `--allow-${SHORT_FLAGS[short[1]]}${short[2] ?? ""}`
    : arg;
  const match = /^--(allow|deny)-([a-z]+)(?:=(.*))?$/.exec(long);
  if (
    match === null ||
    !(DENO_PERMISSION_NAMES as readonly string[]).includes(match[2])
  ) {
    return undefined;
  }
  return {
    kind: match[1],
    name: match[2] as DenoPermissionName,
    values: match[3]?.split(","),
  };
}

/** Deno's one-letter permission flags. */
const SHORT_FLAGS: Readonly<Record<string, DenoPermissionName>> = {
  R: "read",
  W: "write",
  I: "import",
  N: "net",
  E: "env",
  S: "sys",
};

/**
 * The permissions that Deno command line flags grant; other arguments are
 * skipped.
 *
 * @param args Arguments of `deno run` (or `test`, `serve`, …).
 * @param cwd The directory relative paths in the flags are relative to.
 * @returns What they grant, with relative paths made absolute.
 */
export function parsePermissionFlags(
  args: readonly string[],
  cwd: string,
): HeldPermissions {
  const held: Partial<Record<DenoPermissionName, string[]>> = {};
  let all = false;
  for (const arg of args) {
    if (arg === "-A" || arg === "--allow-all") all = true;
    const flag = permissionFlag(arg);
    if (flag === undefined) continue;
    const { kind, name, values } = flag;
    const absolute = values?.map((value) =>
      PATH_PERMISSIONS.includes(name) ? resolve(cwd, value) : value
    );
    (held[name] ??= []).push(
      `--${kind}-${name}${absolute ? `=${absolute.join(",")}` : ""}`,
    );
  }
  if (!all) return held;
  // `-A` grants the rest of every permission that a `--deny-…` narrows.
  const denials = (name: DenoPermissionName) =>
    (held[name] ?? []).filter((flag) => flag.startsWith("--deny-"));
  if (DENO_PERMISSION_NAMES.every((name) => denials(name).length === 0)) {
    return "all";
  }
  return Object.fromEntries(
    DENO_PERMISSION_NAMES.map((name) => [
      name,
      [`--allow-${name}`, ...denials(name)],
    ]),
  );
}

/**
 * The Deno config file this process uses: the one its command line names
 * (`--config`, `-c`, or none for `--no-config`) where that can be read
 * (under `-A`), else the nearest `deno.json`
 * or `deno.jsonc` in its main module's directory or above, found the way
 * Deno itself finds it. Directories this process may not read end the
 * search silently rather than raising a permission prompt.
 *
 * @returns The config file's URL, or `undefined` when there is none, when the
 * main module is not a local file, or when not running under Deno.
 */
export function denoConfigFile(): URL | undefined {
  if (currentRuntime !== "deno") return undefined;
  const argv = runtimeFlags(ownCommandLine() ?? []);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--no-config") return undefined;
    let path: string | undefined;
    if (arg.startsWith("--config=")) path = arg.slice("--config=".length);
    else if (arg === "--config" || arg === "-c") path = argv[i + 1];
    if (path !== undefined) {
      return pathToFileURL(isAbsolute(path) ? path : resolve(path));
    }
  }
  let dir = new URL(".", Deno.mainModule);
  if (dir.protocol !== "file:") return undefined;
  for (;;) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const file = new URL(name, dir);
      if (!mayRead(file)) return undefined;
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

function mayRead(path: string | URL): boolean {
  return Deno.permissions.querySync({ name: "read", path }).state ===
    "granted";
}
