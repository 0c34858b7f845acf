/**
 * The worker pool's rows of W3, W4 and W5 (the README's Benchmarks), each beside its
 * floor, bare Web Workers, measured in the same run:
 *
 * - W3 cpu-scaling: the speed-up of a `WorkerPoolExecutor` of 2 over the
 *   same calls one after another on this thread: 16 calls of `fib(35)`
 *   (~90 ms each, `w3-worker-speedup`) and 200 of `fib(27)` (~2 ms each,
 *   `w3-worker-speedup-2ms`). Every side is warm (workers started, `fib`
 *   compiled) and the three run in a random order (`_w3.ts`); the floor
 *   hands each of 2 bare workers half of the calls at once.
 * - W4 cold-start: from `new WorkerPoolExecutor()` to the first result,
 *   and from `new Worker()` to the first reply for the floor; median of 10.
 * - W5 latency: one round trip to an idle, warm worker; p50 and p99 of
 *   2,000.
 * - `worker-transfer-64mb` / `worker-copy-64mb`: a 64 MB `ArrayBuffer` sent
 *   to a worker and its size back, moved with `transfer()` and copied.
 *
 * Runs under Deno, Bun and Node. Prints `name: value unit` per repetition
 * (`BENCH_REPS`, default 3), the runtime's name in every figure name.
 *
 * @module
 */
import process from "node:process";
import {
  transfer,
  WorkerPoolExecutor,
} from "../executor/worker_pool_executor.ts";
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
import { workerClass } from "../executor/_web_worker_transport.ts";

const REPS = Number(process.env.BENCH_REPS ?? 3);
const COLD_STARTS = 10;
const ROUND_TRIPS = 2_000;
const BIG = 64 * 2 ** 20;
const runtime = requireRuntime("the benchmarks");
const FLOOR = new URL("./_floor_web_worker.ts", import.meta.url);
const Worker = await workerClass();

const add = (x: number): number => x + 2;
const size = (data: ArrayBuffer): number => data.byteLength;

/** A bare worker: one message out, one reply back, in order. */
class Bare {
  readonly worker: Worker = new Worker(FLOOR, { type: "module" });
  readonly #replies: ((value: number) => void)[] = [];

  constructor() {
    this.worker.onmessage = (event) => this.#replies.shift()!(event.data);
  }

  ask(message: { x?: number; fib?: number }): Promise<number> {
    return new Promise((resolve) => {
      this.#replies.push(resolve);
      this.worker.postMessage(message);
    });
  }
}

/** The floor: `workers` share the calls round-robin, all sent at once. */
async function bare(workers: Bare[], workload: Workload): Promise<number> {
  const { n, calls } = workload;
  const start = performance.now();
  const replies = new Array<Promise<number>>(calls);
  for (let i = 0; i < calls; i++) {
    replies[i] = workers[i % workers.length].ask({ fib: n });
  }
  let sum = 0;
  for (let i = 0; i < calls; i++) sum += await replies[i];
  const elapsed = performance.now() - start;
  check(sum, workload);
  return elapsed;
}

/** W4: ms from a new pool to its first result, median. */
async function poolColdStart(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const start = performance.now();
    const pool = new WorkerPoolExecutor({ maxWorkers: 1 });
    await pool.submit(add, 1);
    times.push(performance.now() - start);
    await pool.shutdown();
  }
  return percentile(times, 0.5);
}

/** W4's floor: ms from `new Worker()` to its first reply, median. */
async function bareColdStart(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const start = performance.now();
    const worker = new Bare();
    await worker.ask({ x: 1 });
    times.push(performance.now() - start);
    worker.worker.terminate();
  }
  return percentile(times, 0.5);
}

/** W5: µs per round trip to an idle worker, p50 and p99. */
async function latency(
  roundTrip: (i: number) => Promise<number>,
): Promise<[number, number]> {
  for (let i = 0; i < 100; i++) await roundTrip(i);
  const times = new Array<number>(ROUND_TRIPS);
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const start = performance.now();
    await roundTrip(i);
    times[i] = (performance.now() - start) * 1000;
  }
  return [percentile(times, 0.5), percentile(times, 0.99)];
}

/** ms to send a 64 MB buffer to a worker and have its size back, median. */
async function bigBuffer(pool: WorkerPoolExecutor, moved: boolean) {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const buffer = new ArrayBuffer(BIG);
    const start = performance.now();
    const bytes = await pool.submit(
      size,
      moved ? transfer(buffer, [buffer]) : buffer,
    );
    times.push(performance.now() - start);
    if (bytes !== BIG) throw new Error(`wrong size ${bytes}`);
  }
  return percentile(times, 0.5);
}

function percentile(values: number[], rank: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * rank))];
}

function print(name: string, value: string, unit: string): void {
  console.log(`${name}-${runtime}: ${value} ${unit}`);
}

const pool = new WorkerPoolExecutor({ maxWorkers: 2 });
const floor = [new Bare(), new Bare()];
await pooled(pool, WARM_UP);
await bare(floor, WARM_UP);
serial(WARM_UP);
for (let rep = 0; rep < REPS; rep++) {
  for (const workload of WORKLOADS) {
    const speedUp = await speedUps(workload, pool, (w) => bare(floor, w));
    print(`w3-worker-speedup${workload.suffix}`, speedUp.pool.toFixed(2), "x");
    print(
      `w3-floor-worker-speedup${workload.suffix}`,
      speedUp.floor.toFixed(2),
      "x",
    );
  }
  print("w4-worker", (await poolColdStart()).toFixed(1), "ms");
  print("w4-floor-worker", (await bareColdStart()).toFixed(1), "ms");
  const [p50, p99] = await latency((i) => pool.submit(add, i));
  const [floorP50, floorP99] = await latency((i) => floor[0].ask({ x: i }));
  print("w5-worker-p50", p50.toFixed(0), "µs");
  print("w5-worker-p99", p99.toFixed(0), "µs");
  print("w5-floor-worker-p50", floorP50.toFixed(0), "µs");
  print("w5-floor-worker-p99", floorP99.toFixed(0), "µs");
  print("worker-transfer-64mb", (await bigBuffer(pool, true)).toFixed(2), "ms");
  print("worker-copy-64mb", (await bigBuffer(pool, false)).toFixed(2), "ms");
}
await pool.shutdown();
for (const worker of floor) worker.worker.terminate();
