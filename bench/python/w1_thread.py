"""W1 on CPython: 100,000 trivial tasks on ThreadPoolExecutor(8), submit all, collect all."""
import os
import time
from concurrent.futures import ThreadPoolExecutor

TASKS = 100_000
REPS = int(os.environ.get("BENCH_REPS", "3"))


def task(x):
    return x + 2


def run():
    with ThreadPoolExecutor(max_workers=8) as executor:
        start = time.perf_counter()
        futures = [executor.submit(task, i) for i in range(TASKS)]
        total = sum(f.result() for f in futures)
        elapsed = time.perf_counter() - start
    assert total == TASKS * (TASKS - 1) // 2 + 2 * TASKS
    return TASKS / elapsed


run()
for _ in range(REPS):
    print(f"w1-pool-cpython: {round(run())} tasks/s", flush=True)
