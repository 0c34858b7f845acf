"""W5 on CPython: microseconds for one call on an idle ProcessPoolExecutor(1),
each submitted once the previous result is back; p50 and p99 of 2,000 round
trips per repetition, after 100 untimed ones.
"""
import os
import time
from concurrent.futures import ProcessPoolExecutor

ROUND_TRIPS = 2_000
REPS = int(os.environ.get("BENCH_REPS", "3"))


def task(x):
    return x + 2


def percentile(values, rank):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * rank))]


def latency(executor):
    times = []
    for i in range(ROUND_TRIPS):
        start = time.perf_counter()
        value = executor.submit(task, i).result()
        times.append((time.perf_counter() - start) * 1e6)
        assert value == i + 2
    return percentile(times, 0.5), percentile(times, 0.99)


if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=1) as executor:
        for i in range(100):
            executor.submit(task, i).result()
        for _ in range(REPS):
            p50, p99 = latency(executor)
            print(f"w5-process-p50-cpython: {round(p50)} µs", flush=True)
            print(f"w5-process-p99-cpython: {round(p99)} µs", flush=True)
