/**
 * W2 for the worker pool (the README's Benchmarks): the same workloads as
 * `w2_process.ts` through a `WorkerPoolExecutor` of 2 threads.
 *
 * - `w2-worker-submit`: 20,000 calls `(x) => x + 2`, submit all, await all;
 * - `w2-worker-map-chunk`: `map()` over 200,000 items with
 *   `chunksize: 1000`, every result consumed by `for await`; its floor is
 *   `w2-floor-for-await` of `w2_process.ts`.
 *
 * Runs under Deno, Bun and Node. Prints `name: value unit` per repetition
 * (`BENCH_REPS`, default 3), the runtime's name in every figure name.
 *
 * @module
 */
import process from "node:process";
import { WorkerPoolExecutor } from "../mod.ts";
import { requireRuntime } from "../executor/_runtime.ts";
import { mapChunked, submitAll, WARM_UPS } from "./_w2.ts";

const WORKERS = 2;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const runtime = requireRuntime("the benchmarks");

const pool = new WorkerPoolExecutor({ maxWorkers: WORKERS });
for (let i = 0; i < WARM_UPS; i++) {
  await submitAll(pool);
  await mapChunked(pool);
}
for (let rep = 0; rep < REPS; rep++) {
  const submit = Math.round(await submitAll(pool));
  console.log(`w2-worker-submit-${runtime}: ${submit} calls/s`);
  const map = Math.round(await mapChunked(pool));
  console.log(`w2-worker-map-chunk-${runtime}: ${map} items/s`);
}
await pool.shutdown();
