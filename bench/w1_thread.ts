/**
 * W1 thread-trivial: 100,000 tasks `async (x) => x + 2` on a pool of 8,
 * submit all, await all; beside a bare limiter and `Promise.all` (floors).
 * Each run checks that `stats()` counted every call.
 * With `BENCH_MEMORY=only`, the memory line instead: how much resident
 * memory grows over 1,000,000 items through `map` with `buffersize: 1000`.
 *
 * Runs under Deno, Bun and Node. Prints `name: value unit` per repetition, with
 * the runtime's name in every figure name.
 *
 * @module
 */
import process from "node:process";
import { ThreadPoolExecutor } from "../mod.ts";
import { requireRuntime } from "../executor/_runtime.ts";

const TASKS = 100_000;
const WORKERS = 8;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const runtime = requireRuntime("the benchmarks");
// The workload is an async function by definition, awaiting nothing.
// deno-lint-ignore require-await
const task = async (x: number) => x + 2;
const expected = (TASKS * (TASKS - 1)) / 2 + 2 * TASKS;

async function pool(): Promise<number> {
  const executor = new ThreadPoolExecutor({ maxWorkers: WORKERS });
  const start = performance.now();
  const futures = new Array(TASKS);
  for (let i = 0; i < TASKS; i++) futures[i] = executor.submit(task, i);
  let sum = 0;
  for (let i = 0; i < TASKS; i++) sum += await futures[i];
  const elapsed = performance.now() - start;
  await executor.shutdown();
  check(sum);
  const { completed, failed } = executor.stats();
  if (completed !== TASKS || failed !== 0) {
    throw new Error(`stats() counted ${completed} completed, ${failed} failed`);
  }
  return TASKS / (elapsed / 1000);
}

/** The smallest limiter that keeps 8 calls in flight: no futures at all. */
async function limiter(): Promise<number> {
  const start = performance.now();
  const waiting: (() => void)[] = [];
  let head = 0;
  let active = 0;
  const limited = (x: number) =>
    new Promise<number>((resolve) => {
      const go = () => {
        active++;
        task(x).then((value) => {
          active--;
          resolve(value);
          if (head < waiting.length) waiting[head++]();
        });
      };
      if (active < WORKERS) go();
      else waiting.push(go);
    });
  const promises = new Array(TASKS);
  for (let i = 0; i < TASKS; i++) promises[i] = limited(i);
  let sum = 0;
  for (let i = 0; i < TASKS; i++) sum += await promises[i];
  check(sum);
  return TASKS / ((performance.now() - start) / 1000);
}

async function unlimited(): Promise<number> {
  const start = performance.now();
  const promises = new Array(TASKS);
  for (let i = 0; i < TASKS; i++) promises[i] = task(i);
  let sum = 0;
  for (const value of await Promise.all(promises)) sum += value;
  check(sum);
  return TASKS / ((performance.now() - start) / 1000);
}

async function boundedMapGrowth(): Promise<number> {
  function* endless() {
    for (let n = 0;; n++) yield n;
  }
  const executor = new ThreadPoolExecutor({ maxWorkers: WORKERS });
  const before = process.memoryUsage().rss;
  let peak = before;
  let seen = 0;
  for await (const _ of executor.map(task, endless(), { buffersize: 1000 })) {
    if (++seen % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    if (seen === 1_000_000) break;
  }
  await executor.shutdown();
  return (peak - before) / 2 ** 20;
}

function check(sum: number): void {
  if (sum !== expected) throw new Error(`wrong sum ${sum}`);
}

if (process.env.BENCH_MEMORY === "only") {
  // In a fresh process: earlier work would already have grown the heap.
  console.log(
    `map-buffersize-rss-growth-${runtime}: ${
      (await boundedMapGrowth()).toFixed(1)
    } MB`,
  );
} else {
  await pool(); // warm-up
  await limiter();
  for (let rep = 0; rep < REPS; rep++) {
    console.log(`w1-pool-${runtime}: ${Math.round(await pool())} tasks/s`);
    console.log(
      `w1-limiter-${runtime}: ${Math.round(await limiter())} tasks/s`,
    );
    console.log(
      `w1-promise-all-${runtime}: ${Math.round(await unlimited())} tasks/s`,
    );
  }
}
