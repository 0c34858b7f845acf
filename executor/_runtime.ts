/**
 * The runtime this process runs on, detected once, and the few facts about
 * the current process that a worker command line needs. This is the only
 * module outside the spawn adapters that reads `Deno` or `Bun`, and it does so
 * defensively: importing it never throws, whatever the runtime.
 *
 * @module
 */
import { resolve } from "node:path";

/** A runtime that can run worker subprocesses. */
export type RuntimeName = "deno" | "bun" | "node";

/** The oldest Node major version supported: the oldest line that Node still
 * maintains. */
const NODE_MAJOR = 22;

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
  readonly process?: {
    readonly execPath?: string;
    readonly versions?: { readonly node?: string };
  };
  readonly navigator?: { readonly userAgent?: string };
}

const globals = globalThis as MaybeRuntimes;

function detect(): RuntimeName | undefined {
  // Bun first: a `Deno` shim can be installed on Bun, never the reverse;
  // Node last, since both others report a `process.versions.node` too.
  if (typeof globals.Bun === "object" && globals.Bun !== null) return "bun";
  if (typeof globals.Deno?.Command === "function") return "deno";
  const node = globals.process?.versions?.node;
  if (node !== undefined && Number(node.split(".")[0]) >= NODE_MAJOR) {
    return "node";
  }
  return undefined;
}

/** The runtime this process runs on, or `undefined` when it is none of
 * Deno, Bun and Node 22 or later. */
export const currentRuntime: RuntimeName | undefined = detect();

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

/** The permissions a Deno process holds: all of them, or for each one the
 * flags that grant it (`--allow-read`, `--allow-read=/data`,
 * `--deny-env=HOME`); a missing name is not granted. */
export type HeldPermissions =
  | "all"
  | { readonly [name in DenoPermissionName]?: readonly string[] };

/**
 * The Deno permissions this process holds in full, as Deno's API reports
 * them. A permission granted for some paths or hosts only
 * (`--allow-read=./data`) is missing: the API does not say which ones;
 * {@linkcode startupPermissions} can.
 *
 * @returns `"all"` under Bun (which has no permissions) or when every
 * permission is granted, else one `--allow-<name>` per granted one.
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
 * every permission read its own command line, so a short-lived `deno eval`
 * (which holds them all) reads it from `/proc`: Linux only, and only with
 * run access to the Deno executable, which a process pool needs anyway.
 *
 * @returns The permissions, or `undefined` when they cannot be read.
 */
export async function startupPermissions(): Promise<
  HeldPermissions | undefined
> {
  if (currentRuntime !== "deno" || Deno.build.os !== "linux") return undefined;
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
    const argv = (cmdline as string).split("\0").slice(0, -1);
    // deno [subcommand] flags… main-module Deno.args…
    const flags = argv.slice(1, argv.length - Deno.args.length - 1);
    return parsePermissionFlags(flags, cwd);
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

/** The permissions whose values are paths, which Deno resolves against the
 * directory it started in. */
export const PATH_PERMISSIONS: readonly DenoPermissionName[] = [
  "read",
  "write",
  "ffi",
];

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
