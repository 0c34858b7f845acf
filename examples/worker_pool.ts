/**
 * The classic CPU-bound examples on a `WorkerPoolExecutor`: a function run
 * with `submit` and a done callback, with `map` (Python's prime checks,
 * timed against a serial run), and with `wait`, each call on a worker
 * thread. Prints what `python/worker_pool.py` prints, and lines starting
 * with `#` that measure this run.
 *
 * As in Python, where the workers import the main module under `if
 * __name__ == "__main__":`, this module lists itself in `modules`, so that
 * its functions reach the workers by reference, and keeps its own work under
 * `import.meta.main`, so that the workers importing it do not run it.
 *
 * @module
 */
import process from "node:process";
import { wait } from "../mod.ts";
import { WorkerPoolExecutor } from "../executor/worker_pool_executor.ts";

/** Raises and divides `value` until it means nothing: CPU work. */
export function myFunc(value: number): number {
  value = value ** 5;
  value = value ** 4;
  value = value ** 3;
  value = value / 100000;
  value = value ** 2;
  return value;
}

/** Whether `n` is prime, by trial division: a fraction of a second of CPU. */
export function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let i = 3; i * i <= n; i += 2) if (n % i === 0) return false;
  return true;
}

/** `isPrime(n)`, and the pid of the process that ran it. */
export function isPrimeWhere(n: number): [boolean, number] {
  return [isPrime(n), process.pid];
}

const PRIMES = [
  112272535095293,
  112582705942171,
  112272535095293,
  115280095190773,
  115797848077099,
  1099726899285419,
];

/** A float as Python's `repr()` writes it: the same shortest digits as
 * JavaScript, but in exponent form below 1e-4 and from 1e16 on, with a
 * two-digit exponent, and `.0` on whole numbers. */
function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Object.is(x, -0)) return "-0.0";
  const [digits, exponent] = x.toExponential().split("e");
  const e = Number(exponent);
  if (e < -4 || e >= 16) {
    const sign = e < 0 ? "-" : "+";
    return `${digits}e${sign}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

/** Prints a list of floats the way Python does. */
const show = (values: number[]) =>
  console.log(`[${values.map(pyFloat).join(", ")}]`);

const options = { maxWorkers: 3, modules: [import.meta.url] };

if (import.meta.main) {
  console.log("submit:");
  {
    await using executor = new WorkerPoolExecutor(options);
    const future1 = executor.submit(myFunc, 1);
    const future2 = executor.submit(myFunc, 2);
    const future3 = executor.submit(myFunc, 3);
    console.log(pyFloat(await future1.result()));
    console.log(pyFloat(await future2.result()));
    future3.addDoneCallback(async (future) => {
      console.log("callback:", pyFloat(await future.result()));
    });
  }

  console.log("map:");
  {
    const cores = navigator.hardwareConcurrency;
    await using executor = new WorkerPoolExecutor({
      maxWorkers: cores,
      modules: [import.meta.url],
    });
    // Start every worker first, one quick call each, to time the work alone.
    let start = performance.now();
    await Promise.all(
      Array.from({ length: cores }, () => executor.submit(myFunc, 1)),
    );
    const starting = performance.now() - start;
    start = performance.now();
    const results = await Array.fromAsync(executor.map(isPrimeWhere, PRIMES));
    const pooled = performance.now() - start;
    start = performance.now();
    PRIMES.forEach(isPrime);
    const serial = performance.now() - start;
    const speedUp = (serial / pooled).toFixed(2);
    for (const [i, [prime]] of results.entries()) {
      console.log(`${PRIMES[i]} is ${prime ? "" : "not "}prime`);
    }
    // Threads of this process: every call sees its pid.
    const pids = new Set(results.map(([, pid]) => pid));
    console.log(
      `# ${cores} worker threads started in ${starting.toFixed(0)} ms;`,
      `the ${PRIMES.length} calls saw pid ${[...pids].join(", ")}`,
      `(this process: ${process.pid})`,
    );
    console.log(
      `# ${pooled.toFixed(0)} ms on the pool, ${serial.toFixed(0)} ms`,
      `one after another on this thread: speed-up ${speedUp}`,
    );
  }

  console.log("wait:");
  {
    await using executor = new WorkerPoolExecutor(options);
    const futures = [1, 2, 3].map((value) => executor.submit(myFunc, value));
    const { done, notDone } = await wait(futures);
    console.log(done.size, "done,", notDone.size, "not done");
    show(await Promise.all(futures));
  }
}
