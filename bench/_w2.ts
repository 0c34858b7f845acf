/**
 * W2's workloads (the README's Benchmarks), as the process and worker pool
 * benches both run them: submit-all round trips, and a chunked `map`,
 * each checked for the right sum; and the floor of the chunked `map`, a
 * bare `for await` over the same values.
 *
 * @module
 */
import type { Executor } from "../mod.ts";

export const CALLS = 20_000;
export const ITEMS = 200_000;
export const CHUNKSIZE = 1000;
/** Untimed rounds first: the hot paths of both sides get compiled. */
export const WARM_UPS = 3;
// One function for every call, as CPython's module-level one: it reaches
// each worker by source once.
const task = (x: number): number => x + 2;
const items = Array.from({ length: ITEMS }, (_, i) => i);

/** Round trips per second of submit-all, await-all. */
export async function submitAll(pool: Executor): Promise<number> {
  const start = performance.now();
  const futures = new Array<Promise<number>>(CALLS);
  for (let i = 0; i < CALLS; i++) futures[i] = pool.submit(task, i);
  let sum = 0;
  for (let i = 0; i < CALLS; i++) sum += await futures[i];
  const elapsed = performance.now() - start;
  check(sum, CALLS);
  return CALLS / (elapsed / 1000);
}

/** Items per second of `map()` with `chunksize: 1000`. */
export async function mapChunked(pool: Executor): Promise<number> {
  const start = performance.now();
  let sum = 0;
  for await (const y of pool.map(task, items, { chunksize: CHUNKSIZE })) {
    sum += y;
  }
  const elapsed = performance.now() - start;
  check(sum, ITEMS);
  return ITEMS / (elapsed / 1000);
}

/** The values that `mapChunked()` yields, computed here, from an async
 * generator: the same consumer of the same async iterator protocol. */
async function* results(): AsyncGenerator<number> {
  for (const x of items) yield task(x);
}

/** Items per second of the consumer alone: `for await` over an async
 * generator of the values `mapChunked()` yields. */
export async function forAwait(): Promise<number> {
  const start = performance.now();
  let sum = 0;
  for await (const y of results()) sum += y;
  const elapsed = performance.now() - start;
  check(sum, ITEMS);
  return ITEMS / (elapsed / 1000);
}

function check(sum: number, n: number): void {
  if (sum !== (n * (n - 1)) / 2 + 2 * n) throw new Error(`wrong sum ${sum}`);
}
