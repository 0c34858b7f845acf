"""W4 on CPython: milliseconds from ProcessPoolExecutor(1) creation to the
first result of a trivial call, median of 10 fresh pools per repetition,
with the default start method (fork on Linux before 3.14) and with spawn.
"""
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

COLD_STARTS = 10
REPS = int(os.environ.get("BENCH_REPS", "3"))


def task(x):
    return x + 2


def cold_start(context):
    start = time.perf_counter()
    executor = ProcessPoolExecutor(max_workers=1, mp_context=context)
    value = executor.submit(task, 1).result()
    elapsed = time.perf_counter() - start
    executor.shutdown()
    assert value == 3
    return elapsed * 1000


if __name__ == "__main__":
    contexts = [
        ("w4-process-cpython", None),
        ("w4-process-spawn-cpython", multiprocessing.get_context("spawn")),
    ]
    for _, context in contexts:
        cold_start(context)  # warm-up
    for _ in range(REPS):
        for name, context in contexts:
            times = [cold_start(context) for _ in range(COLD_STARTS)]
            print(f"{name}: {statistics.median(times):.1f} ms", flush=True)
