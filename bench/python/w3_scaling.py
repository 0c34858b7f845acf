"""W3 on CPython: the speed-up of ProcessPoolExecutor(2) over a serial loop.

- w3-speedup: 16 calls of fib(30), as BENCHMARKS.md (fib(35) takes seconds
  in CPython); ~130 ms each here;
- w3-speedup-2ms: 200 calls of fib(21), ~2 ms each, as bench/w3_scaling.ts
  does with fib(27).

Timed as in bench/w3_scaling.ts: the pool's workers are started before the
first timed repetition, and the pool side runs from the first submit() to
the last result; which side runs first is drawn at random. BENCH_REPS
defaults to 3, as there.
"""
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor

REPS = int(os.environ.get("BENCH_REPS", "3"))
WORKLOADS = [("w3-speedup", 30, 16), ("w3-speedup-2ms", 21, 200)]
FIB = {21: 10_946, 30: 832_040}


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def serial(n, calls):
    start = time.perf_counter()
    total = sum(fib(n) for _ in range(calls))
    elapsed = time.perf_counter() - start
    assert total == FIB[n] * calls
    return elapsed


def pooled(executor, n, calls):
    start = time.perf_counter()
    futures = [executor.submit(fib, n) for _ in range(calls)]
    total = sum(f.result() for f in futures)
    elapsed = time.perf_counter() - start
    assert total == FIB[n] * calls
    return elapsed


if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=2) as executor:
        pooled(executor, 21, 8)  # warm-up: the workers start
        for _ in range(REPS):
            for name, n, calls in WORKLOADS:
                if random.random() < 0.5:
                    one = serial(n, calls)
                    two = pooled(executor, n, calls)
                else:
                    two = pooled(executor, n, calls)
                    one = serial(n, calls)
                print(f"{name}-cpython: {one / two:.2f} x", flush=True)
