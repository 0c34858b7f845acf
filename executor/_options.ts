/**
 * Validation of the constructor options every executor shares, with
 * CPython's messages.
 *
 * @module
 */
import type { RuntimeName } from "../workers/_runtime.ts";

/** Returns `maxWorkers`, or `fallback` when it is `undefined`. */
export function checkMaxWorkers(
  maxWorkers: number | undefined,
  fallback: number,
): number {
  if (maxWorkers === undefined) return fallback;
  if (typeof maxWorkers !== "number" || Number.isNaN(maxWorkers)) {
    throw new TypeError(
      `maxWorkers must be an integer or undefined, got ${describe(maxWorkers)}`,
    );
  }
  if (maxWorkers <= 0) {
    throw new RangeError("maxWorkers must be greater than 0");
  }
  if (!Number.isSafeInteger(maxWorkers)) {
    throw new TypeError(
      `maxWorkers must be an integer or undefined, got ${maxWorkers}`,
    );
  }
  return maxWorkers;
}

/** Throws unless `initializer` is a function or `undefined`. */
export function checkInitializer(initializer: unknown): void {
  if (initializer !== undefined && typeof initializer !== "function") {
    throw new TypeError("initializer must be a function");
  }
}

/** The number of logical cores, or 1 where the runtime cannot tell. */
export function cpuCount(): number {
  return globalThis.navigator?.hardwareConcurrency || 1;
}

/**
 * Checks a runtime option: absent, `"deno"`, `"bun"` or `"node"`.
 *
 * @param runtime The option.
 * @param option The option's name, for the error.
 */
export function checkRuntime(
  runtime: unknown,
  option = "runtime",
): asserts runtime is RuntimeName | undefined {
  if (
    runtime !== undefined && runtime !== "deno" && runtime !== "bun" &&
    runtime !== "node"
  ) {
    throw new TypeError(
      `${option} must be "deno", "bun" or "node", got ${describe(runtime)}`,
    );
  }
}

/** A short description of a value of the wrong type, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") {
    return `function ${value.name || "(anonymous)"}`;
  }
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** Returns `maxTasksPerChild`, or `Infinity` when it is `undefined`. */
export function checkMaxTasksPerChild(maxTasks: number | undefined): number {
  if (maxTasks === undefined) return Infinity;
  if (typeof maxTasks !== "number" || !Number.isInteger(maxTasks)) {
    throw new TypeError(
      `maxTasksPerChild must be an integer or undefined, got ${
        describe(maxTasks)
      }`,
    );
  }
  if (maxTasks < 1) throw new RangeError("maxTasksPerChild must be >= 1");
  return maxTasks;
}

/** Returns `onWorkerDeath`, `"break"` when it is `undefined`. */
export function checkOnWorkerDeath(
  onWorkerDeath: unknown,
): "break" | "replace" {
  if (onWorkerDeath === undefined) return "break";
  if (onWorkerDeath !== "break" && onWorkerDeath !== "replace") {
    throw new TypeError(
      `onWorkerDeath must be "break" or "replace", got ${
        describe(onWorkerDeath)
      }`,
    );
  }
  return onWorkerDeath;
}

/** Returns `modules` as a list, `[]` when it is `undefined`. */
export function checkModules(modules: unknown): readonly (string | URL)[] {
  if (modules === undefined) return [];
  if (
    !Array.isArray(modules) ||
    !modules.every((module) =>
      typeof module === "string" || module instanceof URL
    )
  ) {
    throw new TypeError(
      `modules must be a list of module URLs or paths, got ${
        describe(modules)
      }: modules: ["./tasks.ts"]`,
    );
  }
  return modules;
}

/**
 * Checks that `options` is an object whose keys are all among `known`, as
 * Python refuses an unexpected keyword argument.
 *
 * @param options What the caller passed as options.
 * @param known The option names the constructor takes.
 * @param what The class, for the message.
 * @returns The options, `{}` for `undefined`.
 */
export function checkOptions<T extends object>(
  options: T | undefined,
  known: readonly (keyof T & string)[],
  what: string,
): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${what}() takes an object of options, got ${describe(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!(known as readonly string[]).includes(key)) {
      throw new TypeError(
        `${what}() has no option "${key}": its options are ${known.join(", ")}`,
      );
    }
  }
  return options;
}

/** Returns `initargs` as a list, `[]` when it is `undefined`. */
export function checkInitargs(initargs: unknown): readonly unknown[] {
  if (initargs === undefined) return [];
  if (!Array.isArray(initargs)) {
    throw new TypeError(
      `initargs must be a list of the initializer's arguments, got ${
        describe(initargs)
      }`,
    );
  }
  return initargs;
}

/** Checks a command line: a non-empty list of strings, the program first. */
export function checkCommand(
  command: unknown,
): readonly string[] | undefined {
  if (command === undefined) return undefined;
  if (typeof command === "string") {
    throw new TypeError(
      `command must be a list of strings, the program first, got ${
        describe(command)
      }: write ${JSON.stringify(command.split(/\s+/).filter((w) => w))}`,
    );
  }
  if (
    !Array.isArray(command) || command.length === 0 ||
    !command.every((word) => typeof word === "string")
  ) {
    throw new TypeError(
      `command must be a non-empty list of strings, the program first, got ${
        Array.isArray(command) ? JSON.stringify(command) : describe(command)
      }`,
    );
  }
  return command;
}

/** Checks `env`: an object of strings. */
export function checkEnv(
  env: unknown,
): Readonly<Record<string, string>> | undefined {
  if (env === undefined) return undefined;
  if (typeof env !== "object" || env === null || Array.isArray(env)) {
    throw new TypeError(
      `env must be an object of environment variables, got ${describe(env)}`,
    );
  }
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== "string") {
      throw new TypeError(
        `env.${name} must be a string, got ${describe(value)}`,
      );
    }
  }
  return env as Record<string, string>;
}

/** Checks `cwd`: a path, or a `file:` URL. */
export function checkCwd(cwd: unknown): string | URL | undefined {
  if (cwd === undefined || typeof cwd === "string") return cwd;
  if (cwd instanceof URL && cwd.protocol === "file:") return cwd;
  throw new TypeError(
    `cwd must be a path or a file: URL, got ${
      cwd instanceof URL ? cwd.href : describe(cwd)
    }`,
  );
}
