/**
 * The Node adapter of `_stdio_adapter.ts`.
 *
 * @module
 */
import process from "node:process";
import { inspect } from "node:util";
import { type StdioAdapter, stdoutLost } from "./_stdio_adapter.ts";

/**
 * The worker's stdio under Node: stdin as `process.stdin`'s chunks, stdout
 * through `process.stdout`, which writes to a pipe synchronously on Linux
 * and queues in order elsewhere.
 *
 * @returns The adapter.
 */
export function open(): StdioAdapter {
  const stdout = process.stdout;
  stdout.on("error", () => stdoutLost(process.exit));
  return {
    chunks: (): AsyncIterable<Uint8Array> => process.stdin,
    write(bytes: Uint8Array): void {
      if (!stdout.destroyed) stdout.write(bytes);
    },
    async exit(code: number): Promise<never> {
      if (!stdout.destroyed) {
        await new Promise<unknown>((resolve) => stdout.write("", resolve));
      }
      return process.exit(code);
    },
    inspect: (value: unknown, options?: unknown): string =>
      inspect(value, options as Parameters<typeof inspect>[1]),
  };
}
