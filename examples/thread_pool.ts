/**
 * The classic `ThreadPoolExecutor` examples: `submit` with a done callback,
 * `map`, and `wait`. Prints what `python/thread_pool.py` prints.
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
  const results = await Array.fromAsync(
    executor.map(myFunc, [1, 2, 3, 1, 2, 3, 1, 2, 3]),
  );
  show(results);
}

console.log("wait:");
{
  await using executor = new ThreadPoolExecutor({ maxWorkers: 3 });
  const futures = [1, 2, 3].map((value) => executor.submit(myFunc, value));
  const { done, notDone } = await wait(futures);
  console.log(done.size, "done,", notDone.size, "not done");
  show(await Promise.all(futures));
}
