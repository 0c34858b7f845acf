/**
 * The Bun adapter of `_stdio_adapter.ts`.
 *
 * @module
 */
import { type StdioAdapter, stdoutLost } from "./_stdio_adapter.ts";
import { type FileSink, OrderedSink } from "./_bun_sink.ts";

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
 * than `process.stdin`), stdout through a `FileSink` flushed once per turn
 * (see `_bun_sink.ts`), so that everything written in one turn leaves in one
 * write.
 *
 * @returns The adapter.
 */
export function open(): StdioAdapter {
  const stdout = new OrderedSink(
    Bun.stdout.writer(),
    () => stdoutLost(process.exit),
  );
  return {
    chunks: (): AsyncIterable<Uint8Array> => Bun.stdin.stream(),
    write: (bytes: Uint8Array): void => stdout.write(bytes),
    async exit(code: number): Promise<never> {
      await stdout.end();
      return process.exit(code);
    },
    inspect: (value: unknown, options?: unknown): string =>
      Bun.inspect(value, options),
    table: (data: unknown, columns?: readonly string[]): string =>
      Bun.inspect.table(data, columns),
    routeExtras(): void {
      const stderr = new OrderedSink(Bun.stderr.writer());
      (console as BunConsole).write = (...data): number => {
        for (const item of data) {
          stderr.write(
            typeof item === "string"
              ? item
              : new Uint8Array(item.buffer, item.byteOffset, item.byteLength),
          );
        }
        return 0;
      };
    },
  };
}
