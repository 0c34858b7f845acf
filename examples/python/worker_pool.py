"""The WorkerPoolExecutor examples in CPython, for comparing output.

Python 3.14's InterpreterPoolExecutor is the closest twin of a pool of Web
Workers (isolated interpreters on threads); ProcessPoolExecutor prints the
same and runs on every Python 3.
"""
import math
import os
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, wait


def my_func(value):
    value = value ** 5
    value = value ** 4
    value = value ** 3
    value = value / 100000
    value = value ** 2
    return value


def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    for i in range(3, math.isqrt(n) + 1, 2):
        if n % i == 0:
            return False
    return True


def is_prime_where(n):
    return is_prime(n), os.getpid()


PRIMES = [
    112272535095293,
    112582705942171,
    112272535095293,
    115280095190773,
    115797848077099,
    1099726899285419,
]

if __name__ == "__main__":
    print("submit:")
    with ProcessPoolExecutor(max_workers=3) as executor:
        future1 = executor.submit(my_func, 1)
        future2 = executor.submit(my_func, 2)
        future3 = executor.submit(my_func, 3)
        print(future1.result())
        print(future2.result())
        future3.add_done_callback(lambda future: print("callback:", future.result()))

    print("map:")
    cores = os.cpu_count()
    with ProcessPoolExecutor(max_workers=cores) as executor:
        # Start every worker first, one quick call each, to time the work alone.
        start = time.perf_counter()
        wait([executor.submit(my_func, 1) for _ in range(cores)])
        starting = time.perf_counter() - start
        start = time.perf_counter()
        results = list(executor.map(is_prime_where, PRIMES))
        pooled = time.perf_counter() - start
        start = time.perf_counter()
        for n in PRIMES:
            is_prime(n)
        serial = time.perf_counter() - start
        speed_up = serial / pooled
        for n, (prime, _) in zip(PRIMES, results):
            print(f"{n} is {'' if prime else 'not '}prime")
        calls = Counter(pid for _, pid in results)
        ran = ", ".join(f"pid {pid} ran {count}" for pid, count in calls.items())
        print(
            f"# {cores} worker processes started in {starting * 1000:.0f} ms;",
            f"{ran} of the {len(PRIMES)} calls",
            f"(this process: {os.getpid()})",
        )
        print(
            f"# {pooled * 1000:.0f} ms on the pool, {serial * 1000:.0f} ms",
            f"one after another in this process: speed-up {speed_up:.2f}",
        )

    print("wait:")
    with ProcessPoolExecutor(max_workers=3) as executor:
        futures = [executor.submit(my_func, value) for value in [1, 2, 3]]
        done, not_done = wait(futures)
        print(len(done), "done,", len(not_done), "not done")
        print([future.result() for future in futures])
