import assert from "node:assert/strict";
import { rejection, test } from "./_harness.ts";
import { executorContract } from "./_executor_contract.ts";
import { runContract } from "./_run_contract.ts";
import {
  BrokenThreadPool,
  CancelledError,
  type Future,
  ShutdownError,
  ThreadPoolExecutor,
} from "../mod.ts";

executorContract(
  "ThreadPoolExecutor",
  (options) => new ThreadPoolExecutor(options),
);
runContract("ThreadPoolExecutor", (options) => new ThreadPoolExecutor(options));

const BROKEN_MESSAGE =
  "A thread initializer failed, the thread pool is not usable anymore";

/** `n` calls that each wait for their own gate, with a record of who runs. */
function gatedCalls(n: number) {
  const gates = Array.from({ length: n }, () => Promise.withResolvers<void>());
  const started = Array.from(
    { length: n },
    () => Promise.withResolvers<void>(),
  );
  const order: number[] = [];
  const record = { running: 0, peak: 0 };
  const call = async (i: number): Promise<number> => {
    order.push(i);
    record.running++;
    record.peak = Math.max(record.peak, record.running);
    started[i].resolve();
    await gates[i].promise;
    record.running--;
    return i;
  };
  const releaseAll = (): void => gates.forEach((gate) => gate.resolve());
  return { gates, started, order, record, call, releaseAll };
}

test("ThreadPoolExecutor() defaults maxWorkers to min(32, hardwareConcurrency + 4)", async () => {
  const expected = Math.min(32, navigator.hardwareConcurrency + 4);
  await using pool = new ThreadPoolExecutor();
  assert.equal(pool.maxWorkers, expected);
  const calls = gatedCalls(expected + 3);
  const futures = calls.gates.map((_, i) => pool.submit(calls.call, i));
  await calls.started[expected - 1].promise;
  assert.equal(calls.record.running, expected);
  for (const future of futures.slice(expected)) {
    assert.equal(future.state, "PENDING");
  }
  calls.releaseAll();
  await Promise.all(futures);
  assert.equal(calls.record.peak, expected);
});

test("ThreadPoolExecutor never runs more than maxWorkers calls at once", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 3 });
  const n = 12;
  const calls = gatedCalls(n);
  const futures = calls.gates.map((_, i) => pool.submit(calls.call, i));
  await calls.started[2].promise;
  assert.equal(calls.record.running, 3);
  assert.deepEqual(futures.map((f) => f.state), [
    ...Array(3).fill("RUNNING"),
    ...Array(n - 3).fill("PENDING"),
  ]);
  for (let i = 0; i < n; i++) {
    calls.gates[i].resolve();
    assert.equal(await futures[i], i);
    // The freed slot has already started the next queued call.
    assert.equal(calls.record.running, Math.min(3, n - i - 1));
  }
  assert.equal(calls.record.peak, 3);
});

test("ThreadPoolExecutor starts calls in FIFO order whatever order they end in", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  const n = 8;
  const calls = gatedCalls(n);
  const futures = calls.gates.map((_, i) => pool.submit(calls.call, i));
  const released = new Set<number>();
  while (released.size < n) {
    // End the most recently started call first.
    await calls.started[Math.min(n - 1, released.size + 1)].promise;
    const latest = calls.order.findLast((i) => !released.has(i))!;
    released.add(latest);
    calls.gates[latest].resolve();
    await futures[latest];
  }
  assert.deepEqual(calls.order, [0, 1, 2, 3, 4, 5, 6, 7]);
});

test("ThreadPoolExecutor runs the initializer once per worker slot", async () => {
  const seen: unknown[][] = [];
  const initializer = (...args: unknown[]) => {
    seen.push(args);
  };
  {
    await using pool = new ThreadPoolExecutor({
      maxWorkers: 3,
      initializer,
      initargs: ["a", 1],
    });
    const calls = gatedCalls(6);
    const futures = calls.gates.map((_, i) => pool.submit(calls.call, i));
    await calls.started[2].promise;
    assert.equal(seen.length, 3);
    calls.releaseAll();
    await Promise.all(futures);
    // Idle slots are reused, not initialized again.
    await Promise.all([1, 2, 3, 4].map((n) => pool.submit(() => n)));
    assert.deepEqual(seen, [["a", 1], ["a", 1], ["a", 1]]);
  }
  seen.length = 0;
  {
    await using pool = new ThreadPoolExecutor({ maxWorkers: 3, initializer });
    await pool.submit(() => 1);
    await pool.submit(() => 2);
    assert.deepEqual(seen, [[]]);
  }
});

test("ThreadPoolExecutor awaits an async initializer before the slot's first call", async () => {
  const initStarted = Promise.withResolvers<void>();
  const initGate = Promise.withResolvers<void>();
  let initialized = false;
  await using pool = new ThreadPoolExecutor({
    maxWorkers: 1,
    initializer: async () => {
      initStarted.resolve();
      await initGate.promise;
      initialized = true;
    },
  });
  const future = pool.submit(() => initialized);
  await initStarted.promise;
  assert.equal(future.state, "PENDING");
  initGate.resolve();
  assert.equal(await future, true);
});

test("ThreadPoolExecutor with a failing initializer breaks with BrokenThreadPool caused by its error", async () => {
  const cause = new Error("no database");
  const initializers = [
    () => {
      throw cause;
    },
    () => Promise.reject(cause),
  ];
  for (const initializer of initializers) {
    await using pool = new ThreadPoolExecutor({ maxWorkers: 2, initializer });
    const cancelled = pool.submit(() => "cancelled");
    cancelled.cancel();
    const byHand = pool.submit(() => "from the pool");
    byHand.setResult("by hand");
    const futures = [1, 2, 3].map((n) => pool.submit(() => n));
    for (const future of futures) {
      const error = await rejection(future);
      assert.ok(error instanceof BrokenThreadPool);
      assert.equal(error.name, "BrokenThreadPool");
      assert.equal(error.message, BROKEN_MESSAGE);
      assert.equal(error.cause, cause);
    }
    assert.equal(cancelled.state, "CANCELLED");
    assert.equal(await byHand, "by hand");
    assert.throws(() => pool.submit(() => 1), (error: unknown) => {
      assert.ok(error instanceof BrokenThreadPool);
      assert.equal(error.message, BROKEN_MESSAGE);
      assert.equal(error.cause, cause);
      return true;
    });
    assert.throws(() => pool.map((n: number) => n, [1]), BrokenThreadPool);
  }
});

test("ThreadPoolExecutor.submit() never runs fn inside submit()", async () => {
  await using pool = new ThreadPoolExecutor();
  let ran = false;
  const future = pool.submit(() => {
    ran = true;
    return "ran";
  });
  assert.equal(ran, false);
  assert.equal(future.state, "PENDING");
  assert.equal(await future, "ran");
  assert.equal(ran, true);
});

test("ThreadPoolExecutor.submit() fails the future of a non-function with TypeError and keeps working", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  // deno-lint-ignore no-explicit-any
  const future = pool.submit(42 as any);
  const error = await rejection(future);
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /function/);
  assert.equal(await pool.submit((a: number) => a * 2, 21), 42);
});

test("ThreadPoolExecutor.submit() awaits a thenable returned by a sync call", async () => {
  await using pool = new ThreadPoolExecutor();
  const thenable = {
    then(resolve: (value: number) => void) {
      resolve(5);
    },
  };
  assert.equal(await pool.submit(() => thenable), 5);
});

test("ThreadPoolExecutor.submit() survives a call that settles its own future", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const asyncFuture: Future<string> = pool.submit(async () => {
    asyncFuture.setResult("from outside");
    await Promise.resolve();
    return "from inside";
  });
  const syncFuture: Future<string> = pool.submit(() => {
    syncFuture.setException(new Error("from outside"));
    return "from inside";
  });
  assert.equal(await asyncFuture, "from outside");
  assert.equal((await syncFuture.exception() as Error).message, "from outside");
  assert.equal(await pool.submit(() => "still working"), "still working");
});

test("ThreadPoolExecutor.submit() skips a queued future finished by hand", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const calls = gatedCalls(1);
  const blocker = pool.submit(calls.call, 0);
  let ran = false;
  const queued = pool.submit(() => {
    ran = true;
    return "from the pool";
  });
  queued.setResult("by hand");
  calls.releaseAll();
  assert.equal(await blocker, 0);
  assert.equal(await queued, "by hand");
  assert.equal(await pool.submit(() => "still working"), "still working");
  assert.equal(ran, false);
});

test("ThreadPoolExecutor.shutdown({ wait: false }) returns while calls still run", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const calls = gatedCalls(2);
  const futures = [0, 1].map((i) => pool.submit(calls.call, i));
  await calls.started[0].promise;
  await pool.shutdown({ wait: false });
  assert.deepEqual(futures.map((f) => f.state), ["RUNNING", "PENDING"]);
  assert.throws(() => pool.submit(() => 1), ShutdownError);
  calls.releaseAll();
  assert.deepEqual(await Promise.all(futures), [0, 1]);
  await pool.shutdown();
});

test("ThreadPoolExecutor.shutdown() lets queued calls finish before it settles", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const calls = gatedCalls(3);
  const futures = [0, 1, 2].map((i) => pool.submit(calls.call, i));
  let settled = false;
  const stopping = pool.shutdown().then(() => {
    settled = true;
  });
  for (const [i, future] of futures.entries()) {
    assert.equal(settled, false);
    calls.gates[i].resolve();
    assert.equal(await future, i);
  }
  await stopping;
  assert.equal(settled, true);
  assert.deepEqual(calls.order, [0, 1, 2]);
});

test("ThreadPoolExecutor.shutdown({ cancelFutures: true }) cancels the queued calls and waits for the running one", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const calls = gatedCalls(4);
  const futures = [0, 1, 2, 3].map((i) => pool.submit(calls.call, i));
  await calls.started[0].promise;
  let settled = false;
  const stopping = pool.shutdown({ cancelFutures: true }).then(() => {
    settled = true;
  });
  assert.deepEqual(futures.map((f) => f.state), [
    "RUNNING",
    "CANCELLED",
    "CANCELLED",
    "CANCELLED",
  ]);
  for (const future of futures.slice(1)) {
    assert.ok(await rejection(future) instanceof CancelledError);
  }
  assert.equal(settled, false);
  calls.releaseAll();
  await stopping;
  assert.equal(await futures[0], 0);
  assert.deepEqual(calls.order, [0]);
});

test("ThreadPoolExecutor.map() with buffersize submits exactly buffersize calls ahead, as CPython", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  let pulled = 0;
  function* counted(): Generator<number> {
    for (let i = 0; i < 10; i++) {
      pulled++;
      yield i;
    }
  }
  const results = pool.map((x: number) => x, counted(), { buffersize: 4 });
  assert.equal(pulled, 4);
  let out = 0;
  for await (const value of results) {
    assert.equal(value, out++);
    assert.equal(pulled, Math.min(10, out + 4));
  }
  assert.equal(out, 10);
});

test("ThreadPoolExecutor.map() over an endless generator with buffersize stops on break", async () => {
  await using pool = new ThreadPoolExecutor();
  let pulled = 0;
  let closed = false;
  function* naturals(): Generator<number> {
    try {
      for (let n = 0;; n++) {
        pulled++;
        yield n;
      }
    } finally {
      closed = true;
    }
  }
  const seen: number[] = [];
  for await (
    const n of pool.map((n: number) => n * 2, naturals(), { buffersize: 10 })
  ) {
    seen.push(n);
    if (seen.length === 100) break;
  }
  assert.deepEqual(seen, Array.from({ length: 100 }, (_, n) => n * 2));
  assert.equal(closed, true);
  assert.ok(pulled <= 100 + 10 + 1, `${pulled} pulled`);
});

test("ThreadPoolExecutor.map() reads an async generator input and closes it on break", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  let closed = false;
  async function* letters(): AsyncGenerator<string> {
    try {
      for (const letter of "abcdef") {
        await Promise.resolve();
        yield letter;
      }
    } finally {
      closed = true;
    }
  }
  const mapped = pool.map(async (s: string) => {
    await Promise.resolve();
    return s.toUpperCase();
  }, letters());
  assert.deepEqual(await Array.fromAsync(mapped), [..."ABCDEF"]);
  assert.equal(closed, true);

  closed = false;
  const seen: string[] = [];
  for await (
    const s of pool.map((s: string) => s, letters(), { buffersize: 1 })
  ) {
    seen.push(s);
    if (seen.length === 2) break;
  }
  assert.deepEqual(seen, ["a", "b"]);
  assert.equal(closed, true);
});

test("ThreadPoolExecutor.map() yields in order to next() calls made without awaiting", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
  const calls = gatedCalls(6);
  const results = pool.map(calls.call, [0, 1, 2, 3, 4, 5]);
  const steps = Array.from({ length: 7 }, () => results.next());
  // End the calls out of order: 3, 2, 1 (which starts 4 and 5), 5, 4, 0.
  await calls.started[3].promise;
  for (const i of [3, 2, 1]) calls.gates[i].resolve();
  await calls.started[5].promise;
  for (const i of [5, 4, 0]) calls.gates[i].resolve();
  assert.deepEqual(await Promise.all(steps), [
    ...[0, 1, 2, 3, 4, 5].map((value) => ({ done: false, value })),
    { done: true, value: undefined },
  ]);
});

test("ThreadPoolExecutor.map() accepts chunksize > 1 and still submits one call per item", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
  let pulled = 0;
  function* counted(): Generator<number> {
    for (let i = 0; i < 7; i++) {
      pulled++;
      yield i;
    }
  }
  const args: unknown[][] = [];
  const results = pool.map(
    (...received: unknown[]) => {
      args.push(received);
      return received[0] as number;
    },
    counted(),
    { chunksize: 5, buffersize: 1 },
  );
  assert.equal(pulled, 1);
  assert.deepEqual(await Array.fromAsync(results), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(args, [[0], [1], [2], [3], [4], [5], [6]]);
});

test("ThreadPoolExecutor.map() cancels every queued call when one throws", async () => {
  await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const calls = gatedCalls(5);
  const results = pool.map(async (i: number) => {
    await calls.call(i);
    if (i === 0) throw new Error("first failed");
    return i;
  }, [0, 1, 2, 3, 4]);
  const failure = rejection(results.next());
  await calls.started[0].promise;
  calls.gates[0].resolve();
  assert.equal((await failure as Error).message, "first failed");
  // The slot started call 1 as soon as call 0 failed; 2 to 4 never run.
  calls.releaseAll();
  await pool.shutdown();
  assert.deepEqual(calls.order, [0, 1]);
});

test("ThreadPoolExecutor.name defaults to ThreadPoolExecutor-N and takes the name option", async () => {
  await using named = new ThreadPoolExecutor({ name: "io" });
  await using unnamed = new ThreadPoolExecutor();
  assert.equal(named.name, "io");
  assert.match(unnamed.name, /^ThreadPoolExecutor-\d+$/);
});
