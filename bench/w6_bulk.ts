/**
 * W6 bulk data (issue 10): a 64 MiB `Float64Array` sent to a
 * `ProcessPoolExecutor` worker that returns it, through the pipe both ways.
 *
 * - `w6-round-trip`: milliseconds per round trip, the array checked after;
 * - `w6-peak-memory-parent`, `w6-peak-memory-worker`: how far each process's
 *   peak resident memory rose over what it held before the first round trip,
 *   in multiples of the payload (Linux only: read from `/proc`).
 *
 * Memory is measured on the first round trip, in fresh processes, before the
 * timed ones. The floor (the same bytes through a bare child's pipe) is in
 * `floor_process.ts`; CPython's figure in `python/w6_bulk.py`.
 *
 * Runs under Deno, Bun and Node. Prints `name: value unit` per repetition
 * (`BENCH_REPS`, default 3), the runtime's name in every figure name.
 *
 * @module
 */
import process from "node:process";
import { ProcessPoolExecutor } from "../mod.ts";
import { echo, residentBytes } from "./_w6_tasks.ts";
import { requireRuntime } from "../executor/_runtime.ts";

const ELEMENTS = 8 * 1024 * 1024; // 64 MiB of float64
const PAYLOAD = ELEMENTS * Float64Array.BYTES_PER_ELEMENT;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const runtime = requireRuntime("the benchmarks");

function check(back: Float64Array): void {
  if (!(back instanceof Float64Array) || back.length !== ELEMENTS) {
    throw new Error("the echo is not the array sent");
  }
  for (let i = 0; i < ELEMENTS; i += 4099) {
    if (back[i] !== i / 2) throw new Error(`element ${i} is ${back[i]}`);
  }
}

function rise(before: number, peak: number): string {
  return ((peak - before) / PAYLOAD).toFixed(2);
}

await using pool = new ProcessPoolExecutor({
  maxWorkers: 1,
  modules: [new URL("_w6_tasks.ts", import.meta.url)],
});
const workerBefore = await pool.submit(residentBytes);
const parentBefore = residentBytes();
const payload = Float64Array.from({ length: ELEMENTS }, (_, i) => i / 2);
check(await pool.submit(echo, payload));
const parentAfter = residentBytes();
const workerAfter = await pool.submit(residentBytes);
if (parentBefore && parentAfter && workerBefore && workerAfter) {
  // The payload itself counts: the parent built it after its first reading.
  console.log(
    `w6-peak-memory-parent-${runtime}: ${
      rise(parentBefore.now, parentAfter.peak)
    } x payload`,
  );
  console.log(
    `w6-peak-memory-worker-${runtime}: ${
      rise(workerBefore.now, workerAfter.peak)
    } x payload`,
  );
}
for (let rep = 0; rep < REPS; rep++) {
  const start = performance.now();
  const back = await pool.submit(echo, payload);
  const elapsed = performance.now() - start;
  check(back);
  console.log(`w6-round-trip-${runtime}: ${elapsed.toFixed(1)} ms`);
}
