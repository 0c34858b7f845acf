/**
 * W3 cpu-scaling (BENCHMARKS.md): the speed-up of a `ProcessPoolExecutor`
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
 * call (encoding, frames, pipes, wake-ups) is in. The order of the three
 * sides is drawn at random each time, so that none always runs on a
 * machine the previous one warmed or throttled.
 *
 * Runs under Deno and Bun. Prints `name: value unit` per repetition, the
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

const WORKERS = 2;
const REPS = Number(process.env.BENCH_REPS ?? 3);
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

/** The floor: `children` share the calls round-robin, all sent at once. */
async function bare(
  children: Child[],
  { n, calls }: Workload,
): Promise<number> {
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
  check(sum, n, calls);
  return elapsed;
}

/** `items` in a random order (Fisher-Yates). */
function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

const FIB: Record<number, number> = { 27: 196_418, 35: 9_227_465 };

function check(sum: number, n: number, calls: number): void {
  if (sum !== FIB[n] * calls) throw new Error(`wrong sum ${sum}`);
}

const pool = new ProcessPoolExecutor({ maxWorkers: WORKERS });
const floor = Array.from({ length: WORKERS }, () => new Child());
// Warm-up: both workers of each side start (8 calls queued) and compile
// fib, as the serial loop does here.
const warmUp = { name: "warm-up", n: 27, calls: 8 };
await pooled(pool, warmUp);
await bare(floor, warmUp);
serial(warmUp);
for (let rep = 0; rep < REPS; rep++) {
  for (const workload of WORKLOADS) {
    const ms = { serial: 0, pool: 0, floor: 0 };
    for (const side of shuffled(["serial", "pool", "floor"] as const)) {
      ms[side] = side === "serial"
        ? serial(workload)
        : side === "pool"
        ? await pooled(pool, workload)
        : await bare(floor, workload);
    }
    const name = workload.name;
    console.log(`${name}-${runtime}: ${(ms.serial / ms.pool).toFixed(2)} x`);
    console.log(
      `${name.replace("w3-", "w3-floor-")}-${runtime}: ${
        (ms.serial / ms.floor).toFixed(2)
      } x`,
    );
  }
}
await pool.shutdown();
await Promise.all(floor.map((child) => child.close()));
