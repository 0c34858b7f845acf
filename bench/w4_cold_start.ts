/**
 * W4 cold-start (the README's Benchmarks): milliseconds from `new
 * ProcessPoolExecutor()` to the first result of a trivial call, which
 * includes starting a worker process, loading the worker entry and its
 * `init` handshake. The median of 10 fresh pools per repetition; each pool
 * is shut down (untimed) before the next. The floor (a bare child answering
 * one frame) is `w4-floor-process` of `floor_process.ts`.
 *
 * Runs under Deno, Bun and Node. Prints `name: value unit` per repetition
 * (`BENCH_REPS`, default 3), the runtime's name in every figure name.
 *
 * @module
 */
import process from "node:process";
import { ProcessPoolExecutor } from "../mod.ts";
import { requireRuntime } from "../executor/_runtime.ts";

const COLD_STARTS = 10;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const runtime = requireRuntime("the benchmarks");
const task = (x: number): number => x + 2;

/** Milliseconds from pool creation to its first result. */
async function coldStart(): Promise<number> {
  const start = performance.now();
  const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const value = await pool.submit(task, 1);
  const elapsed = performance.now() - start;
  await pool.shutdown();
  if (value !== 3) throw new Error(`wrong result ${value}`);
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

// Warm-up: this process loads the spawn adapter once, as any program with
// a pool does; the workers' cold start is what is measured.
await coldStart();
for (let rep = 0; rep < REPS; rep++) {
  const times: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) times.push(await coldStart());
  console.log(`w4-process-${runtime}: ${median(times).toFixed(1)} ms`);
}
