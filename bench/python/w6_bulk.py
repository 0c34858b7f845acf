"""W6 on CPython: ProcessPoolExecutor(1) returning a 64 MiB float64 numpy
array it was sent, as bench/w6_bulk.ts does with a Float64Array.

Prints nothing when numpy is not installed: without it there is no
comparable array type.
"""
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor

ELEMENTS = 8 * 1024 * 1024
REPS = int(os.environ.get("BENCH_REPS", "3"))


def echo(value):
    return value


def peak_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def resident_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


if __name__ == "__main__":
    try:
        import numpy
    except ImportError:
        raise SystemExit(0)
    payload = ELEMENTS * 8
    with ProcessPoolExecutor(max_workers=1) as executor:
        worker_before = executor.submit(resident_bytes).result()
        before = resident_bytes()
        array = numpy.arange(ELEMENTS, dtype=numpy.float64) / 2
        back = executor.submit(echo, array).result()
        assert numpy.array_equal(back, array)
        worker_peak = executor.submit(peak_bytes).result()
        print(f"w6-peak-memory-parent-cpython: "
              f"{(peak_bytes() - before) / payload:.2f} x payload", flush=True)
        print(f"w6-peak-memory-worker-cpython: "
              f"{(worker_peak - worker_before) / payload:.2f} x payload",
              flush=True)
        for _ in range(REPS):
            start = time.perf_counter()
            back = executor.submit(echo, array).result()
            elapsed = time.perf_counter() - start
            assert back.shape == array.shape
            print(f"w6-round-trip-cpython: {elapsed * 1000:.1f} ms", flush=True)
