/**
 * The classic `ProcessPoolExecutor` examples: a CPU-bound function run with
 * `submit` and a done callback, with `map`, and with `wait`. Prints what
 * `python/process_pool.py` prints.
 *
 * As in Python, where the workers import the main module under `if
 * __name__ == "__main__":`, this module lists itself in `modules`, so that
 * `myFunc` reaches the workers by reference, and keeps its own work under
 * `import.meta.main`, so that the workers importing it do not run it.
 *
 * @module
 */
import { ProcessPoolExecutor, wait } from "../mod.ts";

/** Raises and divides `value` until it means nothing: CPU work. */
export function myFunc(value: number): number {
  value = value ** 5;
  value = value ** 4;
  value = value ** 3;
  value = value / 100000;
  value = value ** 2;
  return value;
}

/** Prints a list the way Python does. */
const show = (values: unknown[]) => console.log(`[${values.join(", ")}]`);

const options = { maxWorkers: 3, modules: [import.meta.url] };

if (import.meta.main) {
  console.log("submit:");
  {
    await using executor = new ProcessPoolExecutor(options);
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
    await using executor = new ProcessPoolExecutor(options);
    const results = await Array.fromAsync(
      executor.map(myFunc, Array(10).fill([1, 2, 3]).flat()),
    );
    show(results);
  }

  console.log("wait:");
  {
    await using executor = new ProcessPoolExecutor(options);
    const futures = [1, 2, 3].map((value) => executor.submit(myFunc, value));
    const { done, notDone } = await wait(futures);
    console.log(done.size, "done,", notDone.size, "not done");
    show(await Promise.all(futures));
  }
}
