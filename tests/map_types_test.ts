/**
 * `map()`'s types: what a JavaScript call accepts, `map()` accepts. The
 * calls run and their results are asserted; the `@ts-expect-error` lines
 * are checked by `deno check` (a directive with no error under it fails it).
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { type Executor, ThreadPoolExecutor } from "../mod.ts";

async function collect<T>(results: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of results) out.push(value);
  return out;
}

async function* countTo(n: number): AsyncGenerator<number> {
  for (let i = 1; i <= n; i++) yield i;
}

test("map() takes a function with fewer parameters than inputs", async () => {
  await using pool = new ThreadPoolExecutor();
  const ones: number[] = await collect(pool.map(() => 1, [1, 2]));
  assert.deepEqual(ones, [1, 1]);
});

test("map() takes optional trailing parameters before its options", async () => {
  await using pool = new ThreadPoolExecutor();
  const parsed: number[] = await collect(
    pool.map(parseInt, ["1", "10"], { timeout: 5_000 }),
  );
  assert.deepEqual(parsed, [1, 10]);
  const sums: number[] = await collect(
    pool.map((a: number, b?: number) => a + (b ?? 0), [1, 2], {
      timeout: 5_000,
    }),
  );
  assert.deepEqual(sums, [1, 2]);
});

test("map() types each parameter from its input, sync or async", async () => {
  await using pool = new ThreadPoolExecutor();
  const joined: string[] = await collect(
    pool.map((n, s) => s.repeat(n), countTo(2), new Set(["a", "b"])),
  );
  assert.deepEqual(joined, ["a", "bb"]);
  const lists = [[1, 2], [3, 4]];
  const maxima: number[] = await collect(pool.map(Math.max, ...lists));
  assert.deepEqual(maxima, [3, 4]);
  const awaited: string[] = await collect(
    pool.map((n: number) => Promise.resolve(String(n)), [7], { buffersize: 1 }),
  );
  assert.deepEqual(awaited, ["7"]);
});

/** Never called: each line must fail to type-check. */
export function rejectedByTheTypes(pool: Executor): void {
  // @ts-expect-error one input for a function of two required parameters
  pool.map((a: number, b: number) => a + b, [1]);
  // @ts-expect-error the same, with options after the input
  pool.map((a: number, b: number) => a + b, [1], { timeout: 5 });
  // @ts-expect-error strings for a number parameter
  pool.map((n: number) => n, ["1"]);
  // @ts-expect-error an options object with an unknown key only
  pool.map((n: number) => n, [1], { timeot: 5 });
  // @ts-expect-error the result is not a string
  const results: AsyncIterableIterator<string> = pool.map((n: number) => n, [
    1,
  ]);
  void results;
}
