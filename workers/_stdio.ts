/**
 * The worker's end of the process pool's pipes: frames arrive on stdin and
 * leave on stdout, so everything `console` prints is moved to stderr, where
 * the parent forwards it to its own stderr.
 *
 * This file and its adapters import nothing from `executor/` or `future/`.
 *
 * @module
 */
import { currentRuntime } from "./_runtime.ts";
import type { StdioAdapter, WorkerStdio } from "./_stdio_adapter.ts";

/**
 * Opens the worker's stdio and moves console output to stderr, so that stdout
 * carries frames only.
 *
 * @returns The worker's stdin and stdout.
 */
export async function openStdio(): Promise<WorkerStdio> {
  // Literal specifiers: Deno loads them without read permission.
  const adapter = currentRuntime === "bun"
    ? (await import("./_stdio_bun.ts")).open()
    : currentRuntime === "deno"
    ? (await import("./_stdio_deno.ts")).open()
    : (await import("./_stdio_node.ts")).open();
  routeConsoleToStderr(adapter);
  adapter.routeExtras?.();
  return adapter;
}

/**
 * Replaces every `console` method that writes to stdout (`log`, `info`,
 * `debug`, `dir`, `dirxml`, `table`, `trace`, `group`, `groupCollapsed`,
 * `count`, `timeLog`, `timeEnd`) with one that writes to stderr through
 * `console.error`, which keeps the runtime's formatting and group indent.
 *
 * @param format How the runtime formats values.
 */
export function routeConsoleToStderr(format: StdioAdapter): void {
  const error = console.error.bind(console);
  const indent = console.group.bind(console);
  const toStderr = (...data: unknown[]): void => error(...data);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.dirxml = toStderr;
  console.dir = (item?: unknown, options?: unknown): void =>
    error(format.inspect(item, options));
  console.table = (data?: unknown, columns?: string[]): void => {
    if (typeof data !== "object" || data === null) return error(data);
    // Where the runtime cannot render a table, the data is still shown.
    error(format.table?.(data, columns) ?? format.inspect(data));
  };
  console.group = console.groupCollapsed = (...label: unknown[]): void => {
    if (label.length > 0) error(...label);
    indent(); // with no label it only indents
  };
  console.trace = (...data: unknown[]): void => {
    const text = data.map((item) =>
      typeof item === "string" ? item : format.inspect(item)
    ).join(" ");
    const stack = new Error().stack?.split("\n").slice(2).join("\n") ?? "";
    error(`Trace${text === "" ? "" : `: ${text}`}\n${stack}`);
  };
  routeCountersAndTimers(error);
}

function routeCountersAndTimers(error: (...data: unknown[]) => void): void {
  const counts = new Map<string, number>();
  const timers = new Map<string, number>();
  console.count = (label = "default"): void => {
    const count = (counts.get(label) ?? 0) + 1;
    counts.set(label, count);
    error(`${label}: ${count}`);
  };
  console.countReset = (label = "default"): void => {
    counts.delete(label);
  };
  console.time = (label = "default"): void => {
    timers.set(label, performance.now());
  };
  const elapsed = (label: string, data: unknown[], end: boolean): void => {
    const start = timers.get(label);
    if (start === undefined) return error(`Timer "${label}" does not exist`);
    if (end) timers.delete(label);
    error(`${label}: ${(performance.now() - start).toFixed(3)}ms`, ...data);
  };
  console.timeLog = (label = "default", ...data: unknown[]): void =>
    elapsed(label, data, false);
  console.timeEnd = (label = "default"): void => elapsed(label, [], true);
}
