"""The WorkerPoolExecutor examples in CPython, for comparing output.

Python 3.14's InterpreterPoolExecutor is the closest twin of a pool of Web
Workers (isolated interpreters on threads); ProcessPoolExecutor prints the
same and runs on every Python 3.
"""
from concurrent.futures import ProcessPoolExecutor, wait


def my_func(value):
    value = value ** 5
    value = value ** 4
    value = value ** 3
    value = value / 100000
    value = value ** 2
    return value


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
    with ProcessPoolExecutor(max_workers=3) as executor:
        results = list(executor.map(my_func, [1, 2, 3] * 10))
        print(results)

    print("wait:")
    with ProcessPoolExecutor(max_workers=3) as executor:
        futures = [executor.submit(my_func, value) for value in [1, 2, 3]]
        done, not_done = wait(futures)
        print(len(done), "done,", len(not_done), "not done")
        print([future.result() for future in futures])
