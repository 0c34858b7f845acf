/**
 * The Deno adapter of `_stdio_adapter.ts`.
 *
 * @module
 */
import { type StdioAdapter, stdoutLost } from "./_stdio_adapter.ts";

/** A Linux pipe holds 64 KiB, so no single read returns more. */
const READ_BYTES = 64 * 1024;

/**
 * The worker's stdio under Deno.
 *
 * stdin is read with `Deno.stdin.read()` into one large buffer (faster than
 * `Deno.stdin.readable`), and stdout is written with `writeSync()`, which
 * measured faster than an async write because it skips a hop to a thread.
 * It blocks only while the pipe is full, that is while the parent is behind,
 * and the parent never waits on the worker to read, so it cannot deadlock.
 *
 * @returns The adapter.
 */
export function open(): StdioAdapter {
  return {
    async *chunks(): AsyncGenerator<Uint8Array> {
      const buffer = new Uint8Array(READ_BYTES);
      for (;;) {
        const count = await Deno.stdin.read(buffer);
        if (count === null) return;
        yield buffer.subarray(0, count);
      }
    },
    write(bytes: Uint8Array): void {
      try {
        for (let offset = 0; offset < bytes.length;) {
          offset += Deno.stdout.writeSync(bytes.subarray(offset));
        }
      } catch {
        stdoutLost(Deno.exit);
      }
    },
    exit(code: number): Promise<never> {
      Deno.exit(code);
    },
    inspect(value: unknown, options?: unknown): string {
      return Deno.inspect(value, options as Deno.InspectOptions);
    },
  };
}
