/**
 * W3 cpu-scaling (the README's Benchmarks): the speed-up of a `ProcessPoolExecutor`
 * of 2 worker processes over running the same calls one after another in
 * this process.
 *
 * - `w3-speedup`: 16 calls of recursive `fib(35)` (~90 ms each);
 * - `w3-speedup-2ms`: 200 calls of `fib(27)` (~2 ms each), where the
 *   pool's own cost per call starts to show.
 *
 * Each beside its floor (`w3-floor-…`): two bare children
 * (`_floor_child.ts`), each sent half of the calls in one write.
 *
 * What is timed: on the serial side, the calls in a loop; on the pool and
 * floor sides, from the first call sent to the last result. Every side is
 * warm: `fib` has run in this process, and the pool's two workers and the
 * two bare children are started and have run `fib` (so its code is
 * compiled there too) before the first timed repetition. Starting workers
 * is W4's figure, so it is left out here; everything a warm pool does per
 * call (encoding, frames, pipes, wake-ups) is in. The three sides run in
 * a random order (`_w3.ts`).
 *
 * Runs under Deno, Bun and Node. Prints `name: value unit` per repetition, the
 * runtime's name in every figure name. `BENCH_REPS` (default 3) repeats
 * each figure: one repetition takes about 4 s, and on a shared 2-core
 * machine single samples range from 1.1 to 3.1 (the serial side is what a
 * busy neighbour slows most), so the median needs many.
 *
 * @module
 */
import process from "node:process";
import { ProcessPoolExecutor } from "../mod.ts";
import { Child, type Reply } from "./_floor_child.ts";
import {
  check,
  pooled,
  serial,
  speedUps,
  WARM_UP,
  type Workload,
  WORKLOADS,
} from "./_w3.ts";
import { requireRuntime } from "../executor/_runtime.ts";

const WORKERS = 2;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const runtime = requireRuntime("the benchmarks");

/** The floor: `children` share the calls round-robin, all sent at once. */
async function bare(
  children: Child[],
  workload: Workload,
): Promise<number> {
  const { n, calls } = workload;
  let sum = 0;
  let received = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const onReply = (reply: Reply) => {
      sum += reply.v;
      if (++received === calls) resolve();
    };
    for (const child of children) child.onReply = onReply;
    for (let i = 0; i < calls; i++) {
      children[i % children.length].sendFib(i, n);
    }
    for (const child of children) child.flush();
  });
  const elapsed = performance.now() - start;
  check(sum, workload);
  return elapsed;
}

const pool = new ProcessPoolExecutor({ maxWorkers: WORKERS });
const floor = Array.from({ length: WORKERS }, () => new Child());
await pooled(pool, WARM_UP);
await bare(floor, WARM_UP);
serial(WARM_UP);
for (let rep = 0; rep < REPS; rep++) {
  for (const workload of WORKLOADS) {
    const speedUp = await speedUps(workload, pool, (w) => bare(floor, w));
    const suffix = `${workload.suffix}-${runtime}`;
    console.log(`w3-speedup${suffix}: ${speedUp.pool.toFixed(2)} x`);
    console.log(`w3-floor-speedup${suffix}: ${speedUp.floor.toFixed(2)} x`);
  }
}
await pool.shutdown();
await Promise.all(floor.map((child) => child.close()));
