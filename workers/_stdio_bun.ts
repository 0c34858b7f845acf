/**
 * The Bun half of `_stdio.ts`.
 *
 * @module
 */
import type { StdioAdapter } from "./_stdio.ts";

/** The part of Bun's `FileSink` used here. */
interface FileSink {
  /** A promise when the bytes could not all be written at once. */
  write(chunk: string | ArrayBufferView): number | Promise<number>;
  flush(): number | Promise<number>;
  end(): number | Promise<number>;
}

/** The part of a `Bun.file()` used here. */
interface BunFile {
  stream(): ReadableStream<Uint8Array>;
  writer(): FileSink;
}

/** The part of the `Bun` global used here. */
interface BunGlobal {
  readonly stdin: BunFile;
  readonly stdout: BunFile;
  readonly stderr: BunFile;
  readonly inspect: {
    (value: unknown, options?: unknown): string;
    table(data: unknown, columns?: readonly string[]): string;
  };
}

/** Bun's own console method that writes raw bytes to stdout. */
interface BunConsole {
  write?: (...data: (string | ArrayBufferView)[]) => number;
}

const Bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
const process = (globalThis as unknown as {
  process: { exit(code: number): never };
}).process;

/**
 * The worker's stdio under Bun: stdin through `Bun.stdin.stream()` (faster
 * than `process.stdin`), stdout through a `FileSink` flushed once per turn,
 * so that everything written in one turn leaves in one write.
 *
 * @returns The adapter.
 */
export function open(): StdioAdapter {
  const stdout = Bun.stdout.writer();
  let broken = false;
  let flushQueued = false;
  // A failure, now or later, means the parent is gone: stdin is about to end.
  const settle = (call: () => number | Promise<number>): void => {
    try {
      const result = call();
      if (result instanceof Promise) result.catch(() => broken = true);
    } catch {
      broken = true;
    }
  };
  const flush = (): void => {
    flushQueued = false;
    if (!broken) settle(() => stdout.flush());
  };
  return {
    chunks: (): AsyncIterable<Uint8Array> => Bun.stdin.stream(),
    write(bytes: Uint8Array): void {
      if (broken) return;
      settle(() => stdout.write(bytes));
      if (flushQueued) return;
      flushQueued = true;
      queueMicrotask(flush);
    },
    async exit(code: number): Promise<never> {
      try {
        await stdout.end();
      } catch {
        // Nobody is reading any more.
      }
      return process.exit(code);
    },
    inspect: (value: unknown, options?: unknown): string =>
      Bun.inspect(value, options),
    table: (data: unknown, columns?: readonly string[]): string =>
      Bun.inspect.table(data, columns),
    routeExtras(): void {
      const stderr = Bun.stderr.writer();
      (console as BunConsole).write = (...data): number => {
        for (const item of data) settle(() => stderr.write(item));
        settle(() => stderr.flush());
        return 0;
      };
    },
  };
}
