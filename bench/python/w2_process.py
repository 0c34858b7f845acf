"""W2 on CPython: ProcessPoolExecutor(2), 20,000 trivial calls submitted all
then collected, and map() over 200,000 items with chunksize=1000.

One pool serves every repetition; its workers are started before the first
timed one, as in bench/w2_process.ts.
"""
import os
import time
from concurrent.futures import ProcessPoolExecutor

CALLS = 20_000
ITEMS = 200_000
CHUNKSIZE = 1000
REPS = int(os.environ.get("BENCH_REPS", "3"))


def task(x):
    return x + 2


def check(total, n):
    assert total == n * (n - 1) // 2 + 2 * n, total


def submit_all(executor):
    start = time.perf_counter()
    futures = [executor.submit(task, i) for i in range(CALLS)]
    total = sum(f.result() for f in futures)
    elapsed = time.perf_counter() - start
    check(total, CALLS)
    return CALLS / elapsed


def map_chunked(executor):
    start = time.perf_counter()
    total = sum(executor.map(task, range(ITEMS), chunksize=CHUNKSIZE))
    elapsed = time.perf_counter() - start
    check(total, ITEMS)
    return ITEMS / elapsed


if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=2) as executor:
        list(executor.map(task, range(1000), chunksize=10))  # warm-up
        for _ in range(REPS):
            print(f"w2-submit-cpython: {round(submit_all(executor))} round-trips/s",
                  flush=True)
            print(f"w2-map-chunk-cpython: {round(map_chunked(executor))} items/s",
                  flush=True)
