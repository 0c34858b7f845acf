/**
 * Validation of the constructor options every executor shares, with
 * CPython's messages.
 *
 * @module
 */

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
    throw new TypeError("maxTasksPerChild must be an integer or undefined");
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
