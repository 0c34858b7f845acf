/**
 * The contract every executor keeps (the README's reference of `Executor`), written once
 * and run by each executor's test file with `executorContract(name, make)`.
 *
 * The pools under test may run calls in another process or thread, so every
 * function submitted here is self-contained: it reads only its parameters
 * and globals, never a variable of this module, and its arguments and
 * results survive a structured clone. A call that must hold a worker busy
 * sleeps, but no assertion depends on how long: with `maxWorkers: 1` the
 * calls behind it are queued whatever the timing. State that the calls share
 * lives on the worker's `globalThis`, under a key unique to the test, and is
 * read back by a later call on the same single worker.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertOwnErrors, rejection, test, untilRunning } from "./_harness.ts";
import {
  asCompleted,
  BrokenExecutor,
  CancelledError,
  type Executor,
  type ExecutorStats,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type Future,
  type MapOptions,
  ShutdownError,
  TimeoutError,
  wait,
} from "../mod.ts";

/** The options of `make` that the contract uses. */
export interface ContractOptions {
  /** Passed to the pool as is. */
  maxWorkers?: number;
  /** Passed to the pool as is; self-contained. */
  // deno-lint-ignore no-explicit-any
  initializer?: (...args: any[]) => unknown;
  /** Passed to the pool as is. */
  initargs?: unknown[];
}

/** Builds the executor under test. */
export type MakeExecutor = (options?: ContractOptions) => Executor;

// ---- calls shipped to the pool: self-contained, parameters and globals only

/** Resolves to `value` after `ms` ms: holds a worker busy. */
const sleepThen = async (ms: number, value?: unknown): Promise<unknown> => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return value;
};

const add = (a: number, b: number): number => a + b;

const addLater = async (a: number, b: number): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return a + b;
};

const echo = (...args: unknown[]): unknown[] => args;
const same = (value: unknown): unknown => value;

/** Throws what no one can look at: a revoked proxy. */
const throwRevoked = (): never => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  throw proxy;
};
const throwIt = (value: unknown): never => {
  throw value;
};

const rejectLater = async (message: string): Promise<never> => {
  await new Promise((resolve) => setTimeout(resolve, 1));
  throw new TypeError(message);
};

/** Fails with `Error(message)` after `ms` ms when `message` is set. */
const sleepThenFail = async (ms: number, message?: string): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  if (message !== undefined) throw new Error(message);
  return ms;
};

/** Counts itself in `globalThis[key]`, sleeps `ms`, fails if asked. */
const countThenSleep = async (
  key: string,
  ms: number,
  message: string | undefined,
): Promise<number> => {
  const g = globalThis as unknown as Record<string, number | undefined>;
  g[key] = (g[key] ?? 0) + 1;
  await new Promise((resolve) => setTimeout(resolve, ms));
  if (message !== undefined) throw new Error(message);
  return ms;
};

/** Appends `item` to the array `globalThis[key]`. */
const logStart = (key: string, item: number): void => {
  const g = globalThis as unknown as Record<string, number[] | undefined>;
  (g[key] ??= []).push(item);
};

/** Tracks in `globalThis[key]` how many calls run at once, and the peak. */
const trackConcurrency = async (key: string, ms: number): Promise<void> => {
  const g = globalThis as unknown as Record<
    string,
    { now: number; peak: number } | undefined
  >;
  const seen = (g[key] ??= { now: 0, peak: 0 });
  seen.now++;
  seen.peak = Math.max(seen.peak, seen.now);
  await new Promise((resolve) => setTimeout(resolve, ms));
  seen.now--;
};

const readGlobal = (key: string): unknown =>
  (globalThis as unknown as Record<string, unknown>)[key];

const setGlobal = (key: string, value: unknown): void => {
  (globalThis as unknown as Record<string, unknown>)[key] = value;
};

const setGlobalLater = async (key: string, value: unknown): Promise<void> => {
  await new Promise((resolve) => setTimeout(resolve, 1));
  (globalThis as unknown as Record<string, unknown>)[key] = value;
};

const failToInitialize = (): never => {
  throw new Error("initializer failed on purpose");
};

// ---- test-side helpers (these run here, never in the pool) ---------------

let keys = 0;

/** A fresh `globalThis` key for one test's shared state in the worker. */
function newKey(): string {
  return `__executorContract${keys++}_${Date.now()}`;
}

/** Removes a key that an in-process pool left on this `globalThis`. */
function forget(key: string): void {
  delete (globalThis as unknown as Record<string, unknown>)[key];
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const values: T[] = [];
  for await (const value of iterable) values.push(value);
  return values;
}

function* repeat<T>(value: T): Generator<T> {
  for (;;) yield value;
}

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function* asyncFrom<T>(values: Iterable<T>): AsyncGenerator<T> {
  for (const value of values) {
    await Promise.resolve();
    yield value;
  }
}

/** What `fn` throws; fails if it returns. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail("expected a throw");
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Asserts the fields of `expected`, leaving the others unchecked. */
function assertStats(
  stats: ExecutorStats,
  expected: Partial<ExecutorStats>,
): void {
  const seen = Object.fromEntries(
    Object.keys(expected).map((
      key,
    ) => [key, stats[key as keyof ExecutorStats]]),
  );
  assert.deepEqual(seen, expected);
}

const SHUTDOWN_MESSAGE = "cannot schedule new futures after shutdown";

/**
 * Registers the executor contract for one executor.
 *
 * @param name The executor's name, which starts every test name.
 * @param make Builds a fresh executor with the given options.
 */
export function executorContract(name: string, make: MakeExecutor): void {
  // ---- submit() -----------------------------------------------------------

  test(`${name}.submit() returns a future that resolves to the call's result`, async () => {
    await using pool = make();
    const future = pool.submit(add, 40, 2);
    assert.equal(await future, 42);
    assert.equal(await future.result(), 42);
    assert.equal(future.state, "FINISHED");
    assert.equal(future.done(), true);
    assert.equal(await future.exception(), undefined);
  });

  test(`${name}.submit() awaits an async function's result`, async () => {
    await using pool = make();
    const future = pool.submit(addLater, 1, 2);
    assert.equal(await future.result(), 3);
    assert.equal(future.state, "FINISHED");
  });

  test(`${name}.submit() passes every argument, undefined and structured data included`, async () => {
    await using pool = make();
    const data = { list: [1, "two", { three: 3 }], none: null, flag: true };
    const result = await pool.submit(echo, data, undefined, 7);
    assert.deepEqual(result, [data, undefined, 7]);
  });

  test(`${name}.submit() fails the future with the exception a sync call throws`, async () => {
    await using pool = make();
    const future = pool.submit(throwIt, new RangeError("out of range"));
    const error = await rejection(future.result());
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, "out of range");
    const exception = await future.exception();
    assert.ok(exception instanceof RangeError);
    assert.equal(exception.message, "out of range");
    assert.equal(future.state, "FINISHED");
  });

  test(`${name}.submit() fails the future with an async call's rejection`, async () => {
    await using pool = make();
    const future = pool.submit(rejectLater, "rejected later");
    const error = await rejection(future);
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, "rejected later");
    assert.equal(future.state, "FINISHED");
  });

  test(`${name}.submit() fails only its own future for an exception that cannot be read (a revoked proxy)`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const before = pool.submit(same, 1);
    const revoked = pool.submit(throwRevoked);
    const after = pool.submit(same, 2);
    assert.equal(await before, 1);
    // What it rejects with may be the proxy, which no promise may resolve
    // to (its `then` cannot be read).
    let rejected = false;
    await revoked.then(() => {}, () => rejected = true);
    assert.ok(rejected);
    assert.equal(await after, 2);
  });

  test(`${name}.submit() keeps falsy thrown values as exceptions`, async () => {
    await using pool = make();
    for (const value of [0, undefined, null, "", false]) {
      const future = pool.submit(throwIt, value);
      assert.equal(await rejection(future.result()), value);
      assert.equal(await rejection(future), value);
      assert.equal(await future.exception(), value);
      assert.equal(future.state, "FINISHED");
    }
  });

  test(`${name}.submit() returns a PENDING future that cancel() stops before it runs`, async () => {
    const key = newKey();
    try {
      await using pool = make({ maxWorkers: 1 });
      const first = pool.submit(countThenSleep, key, 20, undefined);
      const queued = [1, 2, 3].map(() =>
        pool.submit(countThenSleep, key, 0, undefined)
      );
      for (const future of queued) {
        assert.equal(future.state, "PENDING");
        assert.equal(future.cancel(), true);
        assert.equal(future.state, "CANCELLED");
      }
      assert.equal(await first, 20);
      for (const future of queued) {
        assert.ok(await rejection(future) instanceof CancelledError);
      }
      assert.equal(await pool.submit(readGlobal, key), 1);
    } finally {
      forget(key);
    }
  });

  test(`${name}.submit() starts calls in FIFO order`, async () => {
    const key = newKey();
    try {
      await using pool = make({ maxWorkers: 1 });
      for (let i = 0; i < 10; i++) pool.submit(logStart, key, i);
      assert.deepEqual(await pool.submit(readGlobal, key), [...range(10)]);
    } finally {
      forget(key);
    }
  });

  test(`${name}.submit() throws ShutdownError after shutdown()`, async () => {
    const pool = make();
    await pool.shutdown();
    assert.throws(() => pool.submit(add, 1, 2), (error: unknown) => {
      assert.ok(error instanceof ShutdownError);
      assert.equal(error.message, SHUTDOWN_MESSAGE);
      return true;
    });
  });

  test(`${name}.submit() throws ShutdownError right after shutdown({ wait: false })`, async () => {
    const pool = make();
    const first = pool.submit(sleepThen, 5, "first");
    const stopping = pool.shutdown({ wait: false });
    assert.throws(() => pool.submit(add, 1, 2), ShutdownError);
    await stopping;
    assert.equal(await first, "first");
    await pool.shutdown();
  });

  // ---- construction ---------------------------------------------------------

  test(`${name}({ maxWorkers }) throws RangeError for 0 and -1`, () => {
    for (const maxWorkers of [0, -1]) {
      assert.throws(() => make({ maxWorkers }), (error: unknown) => {
        assert.ok(error instanceof RangeError);
        assert.equal(error.message, "maxWorkers must be greater than 0");
        return true;
      });
    }
  });

  test(`${name}({ initializer }) throws TypeError for a non-function`, () => {
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => make({ initializer: "setup" as any }),
      (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.equal(error.message, "initializer must be a function");
        return true;
      },
    );
  });

  test(`${name}() refuses an unknown option and bad initargs, naming them and what was given`, () => {
    const cases: [object, RegExp][] = [
      [
        { maxworkers: 2 },
        /has no option "maxworkers": its options are maxWorkers, /,
      ],
      [
        { initargs: 5 },
        /^initargs must be a list of the initializer's arguments, got 5$/,
      ],
      [
        { maxWorkers: "2" },
        /^maxWorkers must be an integer or undefined, got "2"$/,
      ],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => make(options as never), (error: unknown) => {
        assert.ok(error instanceof TypeError, JSON.stringify(options));
        assert.match(error.message, message);
        return true;
      });
    }
  });

  test(`${name}({ maxWorkers: 1 }) runs one call at a time`, async () => {
    const key = newKey();
    try {
      await using pool = make({ maxWorkers: 1 });
      const futures = [...range(5)].map(() =>
        pool.submit(trackConcurrency, key, 5)
      );
      await Promise.all(futures);
      assert.deepEqual(await pool.submit(readGlobal, key), { now: 0, peak: 1 });
    } finally {
      forget(key);
    }
  });

  test(`${name}({ initializer, initargs }) runs the initializer before the first call`, async () => {
    const key = newKey();
    try {
      await using pool = make({
        maxWorkers: 1,
        initializer: setGlobal,
        initargs: [key, "initialized"],
      });
      assert.equal(await pool.submit(readGlobal, key), "initialized");
    } finally {
      forget(key);
    }
  });

  test(`${name}({ initializer }) awaits an async initializer before the first call`, async () => {
    const key = newKey();
    try {
      await using pool = make({
        maxWorkers: 1,
        initializer: setGlobalLater,
        initargs: [key, "initialized later"],
      });
      assert.equal(await pool.submit(readGlobal, key), "initialized later");
    } finally {
      forget(key);
    }
  });

  test(`${name}({ initializer }) that throws breaks the pool: pending futures fail, submit() and map() throw`, async () => {
    await using pool = make({ maxWorkers: 2, initializer: failToInitialize });
    const futures = [1, 2, 3].map((n) => pool.submit(add, n, n));
    for (const future of futures) {
      assert.ok(await rejection(future) instanceof BrokenExecutor);
      assert.ok(await future.exception() instanceof BrokenExecutor);
      assert.equal(future.state, "FINISHED");
    }
    assert.throws(() => pool.submit(add, 1, 1), BrokenExecutor);
    assert.throws(() => pool.map(add, [1], [1]), BrokenExecutor);
  });

  test(`${name} gives every future failed by a broken pool, and every refused call, its own error`, async () => {
    await using pool = make({ maxWorkers: 2, initializer: failToInitialize });
    const futures = [1, 2, 3].map((n) => pool.submit(add, n, n));
    const errors = await Promise.all(futures.map((f) => f.exception()));
    assert.ok(errors[0] instanceof BrokenExecutor);
    const refused = [1, 2].map(() => thrown(() => pool.submit(add, 1, 1)));
    assertOwnErrors([...errors, ...refused]);
  });

  // ---- stats() --------------------------------------------------------------

  test(`${name}.stats() counts workers, idle ones, and calls running, queued, completed and failed`, async () => {
    const pool = make({ maxWorkers: 1 });
    const none = { workers: 0, idle: 0, running: 0, queued: 0 };
    assert.deepEqual(pool.stats(), { ...none, completed: 0, failed: 0 });
    const blocker = pool.submit(sleepThen, 20, "blocker");
    const ok = pool.submit(add, 1, 2);
    const bad = pool.submit(throwIt, new Error("on purpose"));
    const dropped = pool.submit(add, 0, 0);
    await untilRunning(blocker);
    assertStats(pool.stats(), { workers: 1, idle: 0, running: 1, queued: 3 });
    dropped.cancel();
    assert.equal(pool.stats().queued, 2);
    assert.equal(await blocker, "blocker");
    assert.equal(await ok, 3);
    await rejection(bad);
    const after = { running: 0, queued: 0, completed: 2, failed: 1 };
    assertStats(pool.stats(), { workers: 1, idle: 1, ...after });
    await pool.shutdown();
    assertStats(pool.stats(), { workers: 0, idle: 0, ...after });
  });

  test(`${name}.stats() counts the calls of map() one by one, whatever the chunksize`, async () => {
    await using pool = make({ maxWorkers: 2 });
    const sums = await collect(
      pool.map(add, range(10), range(10), { chunksize: 4 }),
    );
    assert.equal(sums.length, 10);
    assertStats(pool.stats(), { running: 0, completed: 10, failed: 0 });
  });

  test(`${name}.stats() counts every call failed by a broken pool`, async () => {
    await using pool = make({ maxWorkers: 1, initializer: failToInitialize });
    const futures = [1, 2, 3].map((n) => pool.submit(add, n, n));
    await Promise.all(futures.map((future) => future.exception()));
    assertStats(pool.stats(), { queued: 0, completed: 0, failed: 3 });
  });

  // ---- shutdown() -----------------------------------------------------------

  test(`${name}.shutdown() waits for running and queued calls to finish`, async () => {
    const pool = make({ maxWorkers: 1 });
    const futures = [0, 1, 2].map((i) => pool.submit(sleepThen, 10, i));
    await pool.shutdown();
    for (const [i, future] of futures.entries()) {
      assert.equal(future.state, "FINISHED");
      assert.equal(await future.result(0), i);
    }
  });

  test(`${name}.shutdown({ cancelFutures: true }) cancels the calls that have not started`, async () => {
    const pool = make({ maxWorkers: 1 });
    const ready = pool.submit(sleepThen, 0, "ready");
    const futures = [...range(10)].map((i) => pool.submit(sleepThen, 20, i));
    await ready;
    await pool.shutdown({ cancelFutures: true });
    const states = futures.map((future) => future.state);
    // FIFO: whatever started did so before everything cancelled.
    const firstCancelled = states.indexOf("CANCELLED");
    assert.ok(firstCancelled >= 0, `nothing was cancelled: ${states}`);
    for (const [i, state] of states.entries()) {
      assert.equal(state, i < firstCancelled ? "FINISHED" : "CANCELLED");
    }
    assert.equal(futures.at(-1)!.state, "CANCELLED");
    for (const future of futures.slice(firstCancelled)) {
      assert.ok(await rejection(future) instanceof CancelledError);
    }
  });

  test(`${name}.shutdown() is idempotent`, async () => {
    const pool = make();
    const future = pool.submit(sleepThen, 5, "done");
    await Promise.all([
      pool.shutdown(),
      pool.shutdown({ wait: false }),
      pool.shutdown(),
    ]);
    assert.equal(future.state, "FINISHED");
    await pool.shutdown();
    await pool.shutdown({ cancelFutures: true });
    assert.throws(() => pool.submit(add, 1, 1), ShutdownError);
  });

  test(`${name}[Symbol.asyncDispose]() shuts the pool down once its calls are done`, async () => {
    let escaped: Executor;
    let future: Future<unknown>;
    {
      await using pool = make({ maxWorkers: 1 });
      escaped = pool;
      future = pool.submit(sleepThen, 10, "disposed");
    }
    assert.equal(future.state, "FINISHED");
    assert.equal(await future, "disposed");
    assert.throws(() => escaped.submit(add, 1, 1), ShutdownError);
  });

  // ---- map() -------------------------------------------------------------

  test(`${name}.map() yields results in input order`, async () => {
    await using pool = make({ maxWorkers: 3 });
    const delays = [40, 30, 20, 10, 0];
    assert.deepEqual(
      await collect(pool.map(sleepThen, delays, delays)),
      delays,
    );
  });

  test(`${name}.map() calls fn with one item of each input and stops at the shortest`, async () => {
    await using pool = make();
    assert.deepEqual(await collect(pool.map(add, [1, 2, 3], [10, 20])), [
      11,
      22,
    ]);
    assert.deepEqual(await collect(pool.map(add, repeat(100), [1, 2])), [
      101,
      102,
    ]);
  });

  test(`${name}.map() reads an array as its iterator does, with or without chunksize`, async () => {
    await using pool = make();
    for (const chunksize of [1, 2]) {
      const holey: number[] = [1];
      holey[2] = 3;
      assert.deepEqual(
        await collect(pool.map(add, holey, [1, 1, 1], { chunksize })),
        [2, NaN, 4],
      );
      const replaced = Object.assign([1, 2, 3], {
        *[Symbol.iterator]() {
          yield 10;
          yield 20;
        },
      });
      assert.deepEqual(
        await collect(pool.map(add, replaced, [1, 1, 1], { chunksize })),
        [11, 21],
      );
      // Read at the call: what the array becomes later is not seen…
      const read = [1, 2];
      const all = pool.map(add, read, [0, 0, 0], { chunksize });
      read.push(3);
      read[0] = 9;
      assert.deepEqual(await collect(all), [1, 2]);
      // …unless buffersize holds the reads back: then each read sees the
      // array as it is then, length included, as its iterator would.
      const later = [1, 2, 3, 4, 5];
      const zeros = [0, 0, 0, 0, 0];
      const some = pool.map(add, later, zeros, { chunksize, buffersize: 1 });
      later[chunksize] = 7;
      later.length = chunksize + 1;
      assert.deepEqual(
        await collect(some),
        chunksize === 1 ? [1, 7] : [1, 2, 7],
      );
    }
  });

  test(`${name}.map() keeps every number exact, -0, NaN and the infinities included, with or without chunksize`, async () => {
    await using pool = make();
    const numbers = [0, -0, NaN, Infinity, -Infinity, 0.1, 2 ** 53, -1e-310];
    const mixed = [1, "1", -0, null, 2.5];
    for (const chunksize of [1, 4, 100]) {
      const results = await collect(pool.map(same, numbers, { chunksize }));
      assert.equal(results.length, numbers.length);
      results.forEach((value, i) => assert.ok(Object.is(value, numbers[i])));
      assert.deepEqual(
        await collect(pool.map(same, mixed, { chunksize })),
        mixed,
      );
    }
  });

  test(`${name}.map() yields nothing for an empty input`, async () => {
    await using pool = make();
    assert.deepEqual(await collect(pool.map(add, [], repeat(1))), []);
    assert.deepEqual(await collect(pool.map(add, asyncFrom([]), [1])), []);
  });

  test(`${name}.map() yields nothing when given no inputs`, async () => {
    await using pool = make();
    const noInput = (): number => 1;
    assert.deepEqual(await collect(pool.map(noInput)), []);
    assert.deepEqual(await collect(pool.map(noInput, { buffersize: 2 })), []);
  });

  test(`${name}.map() accepts async iterables, alone or mixed with sync ones`, async () => {
    await using pool = make();
    assert.deepEqual(
      await collect(pool.map(add, asyncFrom([1, 2, 3]), asyncFrom([4, 5, 6]))),
      [5, 7, 9],
    );
    assert.deepEqual(
      await collect(pool.map(add, asyncFrom([1, 2, 3]), repeat(10))),
      [11, 12, 13],
    );
  });

  test(`${name}.map() takes options as the last argument`, async () => {
    await using pool = make();
    const results = pool.map(add, [1, 2, 3], [1, 1, 1], {
      timeout: 60_000,
      buffersize: 1,
      chunksize: 2,
    });
    assert.deepEqual(await collect(results), [2, 3, 4]);
  });

  test(`${name}.map() throws a call's exception when its result is reached`, async () => {
    await using pool = make({ maxWorkers: 2 });
    const results = pool.map(sleepThenFail, [30, 0, 0], [
      undefined,
      "second failed",
      undefined,
    ]);
    assert.deepEqual(await results.next(), { done: false, value: 30 });
    const error = await rejection(results.next());
    assert.ok(error instanceof Error);
    assert.equal(error.message, "second failed");
    assert.deepEqual(await results.next(), { done: true, value: undefined });
  });

  test(`${name}.map() cancels the calls not started when a call throws`, async () => {
    const key = newKey();
    try {
      await using pool = make({ maxWorkers: 1 });
      const messages = ["first failed", ...Array(9).fill(undefined)];
      const results = pool.map(
        countThenSleep,
        repeat(key),
        repeat(20),
        messages,
      );
      const error = await rejection(results.next());
      assert.equal((error as Error).message, "first failed");
      assert.deepEqual(await results.next(), { done: true, value: undefined });
      const ran = await pool.submit(readGlobal, key) as number;
      assert.ok(ran < messages.length, `all ${ran} calls ran`);
    } finally {
      forget(key);
    }
  });

  test(`${name}.map() cancels the calls not started when the loop is left early`, async () => {
    const key = newKey();
    try {
      await using pool = make({ maxWorkers: 1 });
      const results = pool.map(
        countThenSleep,
        repeat(key),
        Array(10).fill(20),
        repeat(undefined),
      );
      for await (const value of results) {
        assert.equal(value, 20);
        break;
      }
      assert.deepEqual(await results.next(), { done: true, value: undefined });
      const ran = await pool.submit(readGlobal, key) as number;
      assert.ok(ran < 10, `all ${ran} calls ran`);
    } finally {
      forget(key);
    }
  });

  test(`${name}.map() with a timeout throws TimeoutError and cancels the rest`, async () => {
    const key = newKey();
    try {
      await using pool = make({ maxWorkers: 1 });
      const results = pool.map(
        countThenSleep,
        repeat(key),
        [200, 200, 200],
        repeat(undefined),
        {
          timeout: 30,
        },
      );
      assert.ok(await rejection(results.next()) instanceof TimeoutError);
      assert.deepEqual(await results.next(), { done: true, value: undefined });
      // A pool slow to start may not have started even the first call.
      const ran = (await pool.submit(readGlobal, key) ?? 0) as number;
      assert.ok(ran < 3, `all ${ran} calls ran`);
    } finally {
      forget(key);
    }
  });

  test(`${name}.map() counts the timeout from the call, not from next()`, async () => {
    await using pool = make({ maxWorkers: 1 });
    // The call needs 250 ms, the first next() comes at 200 ms: only a
    // deadline counted from map() (100 ms) has passed by then.
    const results = pool.map(sleepThen, [250], ["late"], { timeout: 100 });
    await delay(200);
    assert.ok(await rejection(results.next()) instanceof TimeoutError);
  });

  test(`${name}.map() with buffersize keeps at most buffersize calls ahead of the consumer`, async () => {
    await using pool = make({ maxWorkers: 2 });
    const buffersize = 3;
    let pulled = 0;
    function* counted(): Generator<number> {
      for (let i = 0; i < 20; i++) {
        pulled++;
        yield i;
      }
    }
    const results = pool.map(add, counted(), repeat(0), { buffersize });
    assert.ok(pulled <= buffersize + 1, `${pulled} pulled before next()`);
    const values: number[] = [];
    for await (const value of results) {
      values.push(value);
      const bound = values.length + buffersize + 1;
      assert.ok(pulled <= bound, `${pulled} pulled for ${values.length} out`);
    }
    assert.deepEqual(values, [...range(20)]);
  });

  test(`${name}.map() throws argument errors at the call`, async () => {
    await using pool = make();
    const cases: [object, ErrorConstructor, string | RegExp][] = [
      [{ chunksize: 0 }, RangeError, "chunksize must be >= 1"],
      [{ chunksize: -1 }, RangeError, "chunksize must be >= 1"],
      [
        { buffersize: 1.5 },
        TypeError,
        "buffersize must be an integer or undefined",
      ],
      [
        { buffersize: "2" },
        TypeError,
        "buffersize must be an integer or undefined",
      ],
      [{ buffersize: 0 }, RangeError, "buffersize must be undefined or > 0"],
      [{ buffersize: -1 }, RangeError, "buffersize must be undefined or > 0"],
      [{ timeout: -1 }, RangeError, /timeout/],
      [{ timeout: NaN }, RangeError, /timeout/],
    ];
    for (const [options, type, message] of cases) {
      for (const input of [[1, 2], asyncFrom([1, 2])]) {
        assert.throws(
          () => pool.map(add, input, [1, 2], options as MapOptions),
          (error: unknown) => {
            assert.ok(error instanceof type, `${JSON.stringify(options)}`);
            if (typeof message === "string") {
              assert.equal(error.message, message);
            } else assert.match(error.message, message);
            return true;
          },
        );
      }
    }
    // Nothing was submitted, and the pool still works.
    assert.deepEqual(await collect(pool.map(add, [1], [1])), [2]);
  });

  test(`${name}.map() throws ShutdownError from the call after shutdown()`, async () => {
    const pool = make();
    await pool.shutdown();
    const isShutdown = (error: unknown): boolean => {
      assert.ok(error instanceof ShutdownError);
      assert.equal(error.message, SHUTDOWN_MESSAGE);
      return true;
    };
    assert.throws(() => pool.map(add, [1, 2], [3, 4]), isShutdown);
    assert.throws(() => pool.map(add, asyncFrom([1, 2]), [3, 4]), isShutdown);
  });

  // ---- wait() and asCompleted() on the executor's futures ---------------

  test(`wait() on ${name} futures returns every one done with ALL_COMPLETED`, async () => {
    await using pool = make({ maxWorkers: 2 });
    const futures = [10, 0, 5].map((ms) => pool.submit(sleepThen, ms, ms));
    const { done, notDone } = await wait(futures);
    assert.deepEqual(done, new Set(futures));
    assert.equal(notDone.size, 0);
  });

  test(`wait() on ${name} futures with FIRST_COMPLETED returns while later calls run`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const quick = pool.submit(sleepThen, 0, "quick");
    const slow = pool.submit(sleepThen, 200, "slow");
    const { done, notDone } = await wait([quick, slow], {
      returnWhen: FIRST_COMPLETED,
    });
    assert.deepEqual(done, new Set([quick]));
    assert.deepEqual(notDone, new Set([slow]));
  });

  test(`wait() on ${name} futures with FIRST_EXCEPTION returns at the first failure`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const ok = pool.submit(sleepThen, 0, "ok");
    const failing = pool.submit(throwIt, new Error("failed"));
    const slow = pool.submit(sleepThen, 200, "slow");
    const { done, notDone } = await wait([ok, failing, slow], {
      returnWhen: FIRST_EXCEPTION,
    });
    assert.deepEqual(done, new Set([ok, failing]));
    assert.deepEqual(notDone, new Set([slow]));
  });

  test(`wait() on ${name} futures returns the unfinished ones after the timeout`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const slow = pool.submit(sleepThen, 200, "slow");
    const { done, notDone } = await wait([slow], { timeout: 10 });
    assert.equal(done.size, 0);
    assert.deepEqual(notDone, new Set([slow]));
  });

  test(`asCompleted() on ${name} futures yields each future once as it finishes`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const finished = pool.submit(add, 1, 1);
    await finished;
    // One worker: the calls finish in submission order.
    const futures = [30, 0, 10].map((ms) => pool.submit(sleepThen, ms, ms));
    const yielded = [];
    for await (
      const future of asCompleted([...futures, finished, futures[0]])
    ) {
      yielded.push(future);
    }
    assert.deepEqual(yielded, [finished, ...futures]);
    assert.equal(await futures[0].result(0), 30);
  });

  test(`asCompleted() on ${name} futures throws TimeoutError naming the unfinished`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const quick = pool.submit(add, 1, 1);
    await quick;
    const slow = pool.submit(sleepThen, 200, "slow");
    const yielded: unknown[] = [];
    const error = await rejection((async () => {
      for await (const future of asCompleted([quick, slow], { timeout: 10 })) {
        yielded.push(future);
      }
    })());
    assert.deepEqual(yielded, [quick]);
    assert.ok(error instanceof TimeoutError);
    assert.equal(error.message, "1 (of 2) futures unfinished");
  });
}
