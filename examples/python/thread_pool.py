"""The ThreadPoolExecutor examples in CPython, for comparing output."""
import time
from concurrent.futures import ThreadPoolExecutor, wait


def my_func(value):
    time.sleep(value * 0.01)
    return value + 2


print("submit:")
with ThreadPoolExecutor(max_workers=3) as executor:
    future1 = executor.submit(my_func, 1)
    future2 = executor.submit(my_func, 2)
    future3 = executor.submit(my_func, 3)
    print(future1.result())
    print(future2.result())
    future3.add_done_callback(lambda future: print("callback:", future.result()))

print("map:")
with ThreadPoolExecutor(max_workers=3) as executor:
    values = [1, 2, 3] * 3
    start = time.perf_counter()
    results = list(executor.map(my_func, values))
    elapsed = time.perf_counter() - start
    print(results)
    asleep = sum(value * 10 for value in values)
    print(
        f"# {len(values)} calls, 3 at a time on 3 threads:",
        f"{elapsed * 1000:.0f} ms (one after another: {asleep} ms)",
    )

print("wait:")
with ThreadPoolExecutor(max_workers=3) as executor:
    futures = [executor.submit(my_func, value) for value in [1, 2, 3]]
    done, not_done = wait(futures)
    print(len(done), "done,", len(not_done), "not done")
    print([future.result() for future in futures])
