/**
 * The contract between a process worker and the stdio adapters
 * (`_stdio_deno.ts`, `_stdio_bun.ts`, `_stdio_node.ts`): the worker's stdin
 * and stdout, and how the runtime formats values for `console`.
 *
 * Types only: nothing of it is loaded at run time.
 *
 * @module
 */

/** The worker's stdin and stdout. */
export interface WorkerStdio {
  /** stdin, one chunk per read (everything the read gave), until EOF. A
   * chunk may be overwritten by the next read: use it before asking for the
   * next one. */
  chunks(): AsyncIterable<Uint8Array>;
  /** Writes bytes on stdout, in order. Never throws: once the parent is gone
   * the bytes are dropped, and stdin ends soon after. */
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
