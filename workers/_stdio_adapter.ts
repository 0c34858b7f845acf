/**
 * The contract between a process worker and the stdio adapters
 * (`_stdio_deno.ts`, `_stdio_bun.ts`, `_stdio_node.ts`): the worker's stdin
 * and stdout, how the runtime formats values for `console`, and what every
 * adapter does when stdout fails.
 *
 * @module
 */

/** The exit code of a worker whose stdout failed (sysexits' EX_IOERR). */
export const EXIT_STDOUT_LOST = 74;

/**
 * Ends a worker whose stdout failed, at once: a task closed it, or the pool
 * is gone. Either way no answer can reach the pool any more, and the pool
 * learns of it by the exit.
 *
 * @param exit The runtime's `exit()`.
 * @returns Never.
 */
export function stdoutLost(exit: (code: number) => never): never {
  console.error(
    "process_worker: its stdout is closed (by a task?), so its answers " +
      "cannot reach the pool",
  );
  return exit(EXIT_STDOUT_LOST);
}

/** The worker's stdin and stdout. */
export interface WorkerStdio {
  /** stdin, one chunk per read (everything the read gave), until EOF. A
   * chunk may be overwritten by the next read: use it before asking for the
   * next one. */
  chunks(): AsyncIterable<Uint8Array>;
  /** Writes bytes on stdout, in order. Never throws: when stdout fails,
   * the worker ends at once (`stdoutLost()`). */
  write(bytes: Uint8Array): void;
  /** Flushes stdout and ends the process with `code`. */
  exit(code: number): Promise<never>;
}

/** A runtime's stdio, plus how it formats values for `console`. */
export interface StdioAdapter extends WorkerStdio {
  /** Formats a value as `console.dir` does. */
  inspect(value: unknown, options?: unknown): string;
  /** Formats rows as `console.table` does, where the runtime can. */
  table?(data: unknown, columns?: readonly string[]): string;
  /** Moves this runtime's own stdout-writing console methods to stderr. */
  routeExtras?(): void;
}
