/**
 * W3 cpu-scaling (the README's Benchmarks), as the process and worker pool benches
 * both run it: the workloads, the serial loop, the pool side, and the order
 * of the three sides (serial, pool, floor), drawn at random each time so
 * that none always runs on a machine the previous one warmed or throttled.
 *
 * @module
 */

/** What a timed side submits calls to: a pool of ours, or a peer's. */
export interface Submitter {
  submit(fn: typeof fib, n: number): PromiseLike<number>;
}

/** Self-contained, so that it reaches the workers by source. */
export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

const FIB: Record<number, number> = {
  20: 6_765,
  27: 196_418,
  30: 832_040,
  35: 9_227_465,
};

/** `calls` calls of `fib(n)`; `suffix` ends the figure's name. */
export interface Workload {
  readonly suffix: string;
  readonly n: number;
  readonly calls: number;
}

/** 16 calls of ~90 ms, and 200 of ~2 ms, where a pool's own cost per call
 * starts to show. */
export const WORKLOADS: readonly Workload[] = [
  { suffix: "", n: 35, calls: 16 },
  { suffix: "-2ms", n: 27, calls: 200 },
];

/** Enough calls for both workers of a side to start and compile `fib`. */
export const WARM_UP: Workload = { suffix: "", n: 27, calls: 8 };

/** Throws unless `sum` is what the workload's calls add up to. */
export function check(sum: number, { n, calls }: Workload): void {
  if (sum !== FIB[n] * calls) throw new Error(`wrong sum ${sum}`);
}

/** ms for the calls one after another on this thread. */
export function serial(workload: Workload): number {
  const start = performance.now();
  let sum = 0;
  for (let i = 0; i < workload.calls; i++) sum += fib(workload.n);
  const elapsed = performance.now() - start;
  check(sum, workload);
  return elapsed;
}

/** ms from the first `submit()` to the last result. */
export async function pooled(
  pool: Submitter,
  workload: Workload,
): Promise<number> {
  const { n, calls } = workload;
  const start = performance.now();
  const futures = new Array<PromiseLike<number>>(calls);
  for (let i = 0; i < calls; i++) futures[i] = pool.submit(fib, n);
  let sum = 0;
  for (let i = 0; i < calls; i++) sum += await futures[i];
  const elapsed = performance.now() - start;
  check(sum, workload);
  return elapsed;
}

/**
 * Times the serial loop, the pool and the floor, in a random order.
 *
 * @param workload The calls.
 * @param pool The pool under test.
 * @param floor Times the same calls on bare workers.
 * @returns The speed-ups over serial of the pool and of the floor.
 */
export async function speedUps(
  workload: Workload,
  pool: Submitter,
  floor: (workload: Workload) => Promise<number>,
): Promise<{ pool: number; floor: number }> {
  const ms = { serial: 0, pool: 0, floor: 0 };
  for (const side of shuffled(["serial", "pool", "floor"] as const)) {
    ms[side] = side === "serial"
      ? serial(workload)
      : side === "pool"
      ? await pooled(pool, workload)
      : await floor(workload);
  }
  return { pool: ms.serial / ms.pool, floor: ms.serial / ms.floor };
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
