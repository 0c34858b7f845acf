/**
 * W3 cpu-scaling (BENCHMARKS.md): the speed-up of a `ProcessPoolExecutor`
 * of 2 worker processes over running the same calls one after another in
 * this process.
 *
 * - `w3-speedup`: 16 calls of recursive `fib(35)` (~90 ms each);
 * - `w3-speedup-2ms`: 200 calls of `fib(27)` (~2 ms each), where the
 *   pool's own cost per call starts to show.
 *
 * What is timed: on the serial side, the calls in a loop; on the pool side,
 * from the first `submit()` to the last result. Both sides are warm: `fib`
 * has run in this process, and the pool's two workers are started and have
 * run `fib` (so its code is compiled there too) before the first timed
 * repetition. Starting workers is W4's figure, so it is left out here;
 * everything a warm pool does per call (encoding, frames, pipes, wake-ups)
 * is in. Which side runs first is drawn at random each time.
 *
 * Runs under Deno and Bun. Prints `name: value unit` per repetition, the
 * runtime's name in every figure name. `BENCH_REPS` defaults to 1 here, not
 * 3: one repetition takes seconds, and the rounds of `deno task bench`
 * repeat it.
 *
 * @module
 */
import process from "node:process";
import { ProcessPoolExecutor } from "../mod.ts";

const WORKERS = 2;
const REPS = Number(process.env.BENCH_REPS ?? 1);
const runtime = typeof Deno === "object" ? "deno" : "bun";

/** Self-contained, so that it reaches the workers by source. */
function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

interface Workload {
  name: string;
  n: number;
  calls: number;
}

const WORKLOADS: Workload[] = [
  { name: "w3-speedup", n: 35, calls: 16 },
  { name: "w3-speedup-2ms", n: 27, calls: 200 },
];

function serial({ n, calls }: Workload): number {
  const start = performance.now();
  let sum = 0;
  for (let i = 0; i < calls; i++) sum += fib(n);
  const elapsed = performance.now() - start;
  check(sum, n, calls);
  return elapsed;
}

async function pooled(
  pool: ProcessPoolExecutor,
  { n, calls }: Workload,
): Promise<number> {
  const start = performance.now();
  const futures = new Array<Promise<number>>(calls);
  for (let i = 0; i < calls; i++) futures[i] = pool.submit(fib, n);
  let sum = 0;
  for (let i = 0; i < calls; i++) sum += await futures[i];
  const elapsed = performance.now() - start;
  check(sum, n, calls);
  return elapsed;
}

const FIB: Record<number, number> = { 27: 196_418, 35: 9_227_465 };

function check(sum: number, n: number, calls: number): void {
  if (sum !== FIB[n] * calls) throw new Error(`wrong sum ${sum}`);
}

const pool = new ProcessPoolExecutor({ maxWorkers: WORKERS });
// Warm-up: both workers start (8 calls queued) and compile fib, as the
// serial loop does here.
await pooled(pool, { name: "warm-up", n: 27, calls: 8 });
serial({ name: "warm-up", n: 27, calls: 8 });
for (let rep = 0; rep < REPS; rep++) {
  for (const workload of WORKLOADS) {
    let one: number, two: number;
    if (Math.random() < 0.5) {
      one = serial(workload);
      two = await pooled(pool, workload);
    } else {
      two = await pooled(pool, workload);
      one = serial(workload);
    }
    console.log(`${workload.name}-${runtime}: ${(one / two).toFixed(2)} x`);
  }
}
await pool.shutdown();
