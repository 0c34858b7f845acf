/**
 * W5 latency (the README's Benchmarks): microseconds for one call `(x) => x + 2` on an
 * idle `ProcessPoolExecutor` of one warm worker, from `submit()` to the
 * awaited result; each call is submitted once the previous one is back.
 * p50 and p99 of 2,000 round trips per repetition, after 100 untimed ones.
 * The floor (a bare child answering one frame) is `w5-floor-process` of
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

const ROUND_TRIPS = 2_000;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const runtime = requireRuntime("the benchmarks");
const task = (x: number): number => x + 2;

async function latency(pool: ProcessPoolExecutor): Promise<[number, number]> {
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const start = performance.now();
    const value = await pool.submit(task, i);
    times.push((performance.now() - start) * 1000);
    if (value !== i + 2) throw new Error(`wrong result ${value}`);
  }
  return [percentile(times, 0.5), percentile(times, 0.99)];
}

function percentile(values: number[], rank: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * rank))];
}

const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
for (let i = 0; i < 100; i++) await pool.submit(task, i); // warm-up
for (let rep = 0; rep < REPS; rep++) {
  const [p50, p99] = await latency(pool);
  console.log(`w5-process-p50-${runtime}: ${Math.round(p50)} µs`);
  console.log(`w5-process-p99-${runtime}: ${Math.round(p99)} µs`);
}
await pool.shutdown();
