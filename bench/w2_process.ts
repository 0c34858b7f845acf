/**
 * W2 process-trivial (the README's Benchmarks): round trips through a
 * `ProcessPoolExecutor` of 2 worker processes.
 *
 * - `w2-submit`: 20,000 calls `(x) => x + 2`, submit all, then await all;
 * - `w2-map-chunk`: `map()` over 200,000 items with `chunksize: 1000`, every
 *   result consumed by `for await`;
 * - `w2-floor-for-await`: the consumer alone, `for await` over the same
 *   values, the most any `map` can reach.
 *
 * One pool serves every repetition; its workers are started and warm
 * before the first timed one (starting them is W4's figure), after enough
 * untimed rounds that the runtime has compiled the hot paths. The inputs
 * are built outside the timed region. The other floors are in
 * `floor_process.ts`.
 *
 * Runs under Deno, Bun and Node. Prints `name: value unit` per repetition
 * (`BENCH_REPS`, default 3), the runtime's name in every figure name.
 *
 * @module
 */
import process from "node:process";
import { ProcessPoolExecutor } from "../mod.ts";
import { requireRuntime } from "../executor/_runtime.ts";
import {
  CALLS,
  forAwait,
  ITEMS,
  mapChunked,
  submitAll,
  WARM_UPS,
} from "./_w2.ts";

const WORKERS = 2;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const runtime = requireRuntime("the benchmarks");

const pool = new ProcessPoolExecutor({ maxWorkers: WORKERS });
for (let i = 0; i < WARM_UPS; i++) {
  await submitAll(pool);
  await mapChunked(pool);
  await forAwait();
}
for (let rep = 0; rep < REPS; rep++) {
  console.log(
    `w2-submit-${runtime}: ${Math.round(await submitAll(pool))} round-trips/s`,
  );
  console.log(
    `w2-map-chunk-${runtime}: ${Math.round(await mapChunked(pool))} items/s`,
  );
  console.log(
    `w2-floor-for-await-${runtime}: ${Math.round(await forAwait())} items/s`,
  );
}
// The counts that `stats()` keeps on the way, which must cost W2 nothing.
const { completed, failed } = pool.stats();
if (completed !== (REPS + WARM_UPS) * (CALLS + ITEMS) || failed !== 0) {
  throw new Error(`stats() counted ${completed} completed, ${failed} failed`);
}
console.log(`w2-stats-completed-${runtime}: ${completed} calls`);
await pool.shutdown();
