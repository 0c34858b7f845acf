/**
 * The Deno half of the worker pool's `permissions`: the option in the shape
 * of `Deno.PermissionOptions`, for `new Worker(…, { deno: { permissions } })`,
 * and whether this Deno accepts it. Deno gates the option behind
 * `--unstable-worker-options` (or `"unstable": ["worker-options"]` in the
 * config) and, without it, ends the whole process (exit code 70) when a
 * worker is created with it: the pool must know beforehand, and Deno's API
 * does not say, so this module reads the command line and the config.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import {
  currentRuntime,
  DENO_PERMISSION_NAMES,
  type DenoPermissionName,
  mainModuleConfig,
  PATH_PERMISSIONS,
} from "./_runtime.ts";
import { filePath, type WorkerPermissions } from "./_spawn.ts";

/**
 * The `deno.permissions` option of the pool's workers.
 *
 * @param permissions The pool's `permissions` option.
 * @returns The option, or `undefined` when the workers inherit the
 * parent's permissions (Deno's default, which needs no flag) or when not
 * running under Deno.
 * @throws {TypeError} For an unknown permission name or grant.
 * @throws {Error} When this Deno runs without `--unstable-worker-options`,
 * or when it cannot tell (then Deno might end the process instead).
 */
export function workerPermissions(
  permissions: WorkerPermissions | undefined,
): Deno.PermissionOptions | undefined {
  if (currentRuntime !== "deno") return undefined;
  if (permissions === undefined || permissions === "inherit") return undefined;
  const options = denoOptions(permissions);
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
  return options;
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
  const path = filePath(entry);
  if (Deno.permissions.querySync({ name: "read", path }).state === "granted") {
    return;
  }
  const folder = filePath(new URL(".", entry)).replace(/[\\/]$/, "");
  throw new Error(
    `WorkerPoolExecutor needs read access to its worker modules in ${folder}` +
      `, which this process lacks: add --allow-read=${folder} (or ` +
      "--allow-read) to the deno command line",
  );
}

function denoOptions(permissions: WorkerPermissions): Deno.PermissionOptions {
  if (permissions === "none") return "none";
  if (typeof permissions !== "object" || permissions === null) {
    throw new TypeError(
      'permissions must be "inherit", "none" or an object of grants',
    );
  }
  const options: Record<string, unknown> = {};
  for (const name of Object.keys(permissions)) {
    if (!(DENO_PERMISSION_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`unknown Deno permission "${name}"`);
    }
  }
  for (const name of DENO_PERMISSION_NAMES) {
    const grant = permissions[name];
    if (grant === undefined || grant === false) options[name] = false;
    else if (grant === true || grant === "inherit") options[name] = grant;
    else if (Array.isArray(grant)) {
      options[name] = grant.map((value) => permissionValue(name, value));
    } else {
      throw new TypeError(
        `the "${name}" permission must be "inherit", a boolean or a list`,
      );
    }
  }
  return options as Deno.PermissionOptions;
}

function permissionValue(name: DenoPermissionName, value: string | URL) {
  // Relative paths resolve against the current directory, as the process
  // pool's workers see them (Deno would resolve them against the entry).
  if (!PATH_PERMISSIONS.includes(name)) return String(value);
  const path = value instanceof URL ? filePath(value) : String(value);
  return isAbsolute(path) ? path : resolve(process.cwd(), path);
}

/**
 * Whether Deno runs with `--unstable-worker-options`, from its command line
 * (Linux) and its config file.
 *
 * @returns `true` or `false`, or `undefined` when it cannot tell (no
 * `/proc`, no permission to read it, or a compiled program).
 */
function unstableWorkerOptions(): boolean | undefined {
  const argv = commandLine();
  if (argv?.some((arg) => arg === "--unstable-worker-options")) return true;
  const config = configFile(argv);
  if (config !== undefined && listsWorkerOptions(config)) return true;
  const program = argv?.[0]?.split(/[\\/]/).pop() ?? "";
  return argv !== undefined && /^deno(\.exe)?$/.test(program)
    ? false
    : undefined;
}

/** This process's argv from `/proc/self/cmdline`, where it may be read
 * without a permission prompt. */
function commandLine(): string[] | undefined {
  const path = "/proc/self/cmdline";
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") {
    return undefined;
  }
  try {
    return Deno.readTextFileSync(path).split("\0").filter((arg) => arg);
  } catch {
    return undefined;
  }
}

/** The config file Deno uses: `--config` / `-c`, else the one it finds. */
function configFile(argv: string[] | undefined): URL | undefined {
  for (let i = 0; argv !== undefined && i < argv.length; i++) {
    const arg = argv[i];
    let path: string | undefined;
    if (arg.startsWith("--config=")) path = arg.slice("--config=".length);
    else if (arg === "--config" || arg === "-c") path = argv[i + 1];
    if (path !== undefined) {
      const absolute = isAbsolute(path) ? path : resolve(process.cwd(), path);
      return pathToFileURL(absolute);
    }
  }
  return mainModuleConfig();
}

function listsWorkerOptions(config: URL): boolean {
  if (
    Deno.permissions.querySync({ name: "read", path: config }).state !==
      "granted"
  ) {
    return false;
  }
  try {
    const text = Deno.readTextFileSync(config);
    return /"unstable"\s*:\s*\[[^\]]*"worker-options"/.test(text);
  } catch {
    return false;
  }
}
