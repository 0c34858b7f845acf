/**
 * The classic `ThreadPoolExecutor` examples: `submit` with a done callback,
 * `map`, and `wait`. Prints what `python/thread_pool.py` prints, and lines
 * starting with `#` that measure this run.
 *
 * @module
 */
import { ThreadPoolExecutor, wait } from "../mod.ts";

/** Waits `value × 10` ms, then returns `value + 2`. */
async function myFunc(value: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, value * 10));
  return value + 2;
}

/** Prints a list the way Python does. */
const show = (values: unknown[]) => console.log(`[${values.join(", ")}]`);

console.log("submit:");
{
  await using executor = new ThreadPoolExecutor({ maxWorkers: 3 });
  const future1 = executor.submit(myFunc, 1);
  const future2 = executor.submit(myFunc, 2);
  const future3 = executor.submit(myFunc, 3);
  console.log(await future1.result());
  console.log(await future2.result());
  future3.addDoneCallback(async (future) => {
    console.log("callback:", await future.result());
  });
}

console.log("map:");
{
  await using executor = new ThreadPoolExecutor({ maxWorkers: 3 });
  const values = [1, 2, 3, 1, 2, 3, 1, 2, 3];
  const start = performance.now();
  const results = await Array.fromAsync(executor.map(myFunc, values));
  const elapsed = performance.now() - start;
  show(results);
  // No threads in JavaScript: the calls take turns on this thread's event
  // loop, at most maxWorkers at a time, and wait side by side.
  const asleep = values.reduce((sum, value) => sum + value * 10, 0);
  console.log(
    `# ${values.length} calls, 3 at a time on this thread's event loop:`,
    `${elapsed.toFixed(0)} ms (one after another: ${asleep} ms)`,
  );
}

console.log("wait:");
{
  await using executor = new ThreadPoolExecutor({ maxWorkers: 3 });
  const futures = [1, 2, 3].map((value) => executor.submit(myFunc, value));
  const { done, notDone } = await wait(futures);
  console.log(done.size, "done,", notDone.size, "not done");
  show(await Promise.all(futures));
}
