/**
 * W2 process-trivial (the README's Benchmarks): round trips through a
 * `ProcessPoolExecutor` of 2 worker processes.
 *
 * - `w2-submit`: 20,000 calls `(x) => x + 2`, submit all, then await all;
 * - `w2-map-chunk`: `map()` over 200,000 items with `chunksize: 1000`, every
 *   result consumed by `for await`.
 *
 * One pool serves every repetition; its workers are started and warm
 * before the first timed one (starting them is W4's figure). The inputs are
 * built outside the timed region. The floors are in `floor_process.ts`.
 *
 * Runs under Deno, Bun and Node. Prints `name: value unit` per repetition
 * (`BENCH_REPS`, default 3), the runtime's name in every figure name.
 *
 * @module
 */
import process from "node:process";
import { ProcessPoolExecutor } from "../mod.ts";
import { requireRuntime } from "../executor/_runtime.ts";

const CALLS = 20_000;
const ITEMS = 200_000;
const CHUNKSIZE = 1000;
const WORKERS = 2;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const runtime = requireRuntime("the benchmarks");
// One function for every call, as CPython's module-level one: it reaches
// each worker by source once.
const task = (x: number): number => x + 2;
const items = Array.from({ length: ITEMS }, (_, i) => i);

/** Round trips per second of submit-all, await-all. */
async function submitAll(pool: ProcessPoolExecutor): Promise<number> {
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
async function mapChunked(pool: ProcessPoolExecutor): Promise<number> {
  const start = performance.now();
  let sum = 0;
  for await (const y of pool.map(task, items, { chunksize: CHUNKSIZE })) {
    sum += y;
  }
  const elapsed = performance.now() - start;
  check(sum, ITEMS);
  return ITEMS / (elapsed / 1000);
}

function check(sum: number, n: number): void {
  if (sum !== (n * (n - 1)) / 2 + 2 * n) throw new Error(`wrong sum ${sum}`);
}

const pool = new ProcessPoolExecutor({ maxWorkers: WORKERS });
// Warm-up: starts both workers and lets both runtimes compile the paths.
await submitAll(pool);
await mapChunked(pool);
for (let rep = 0; rep < REPS; rep++) {
  console.log(
    `w2-submit-${runtime}: ${Math.round(await submitAll(pool))} round-trips/s`,
  );
  console.log(
    `w2-map-chunk-${runtime}: ${Math.round(await mapChunked(pool))} items/s`,
  );
}
// The counts that `stats()` keeps on the way, which must cost W2 nothing.
const { completed, failed } = pool.stats();
if (completed !== (REPS + 1) * (CALLS + ITEMS) || failed !== 0) {
  throw new Error(`stats() counted ${completed} completed, ${failed} failed`);
}
console.log(`w2-stats-completed-${runtime}: ${completed} calls`);
await pool.shutdown();
