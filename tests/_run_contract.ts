/**
 * What every executor's `run()` does, and `map({ signal })` with it: limits
 * that end a call and leave the pool working. Run by each pool's test file
 * with `runContract(name, make)`; `workerRunContract` adds what stopping a
 * worker means to the pools of long-lived workers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rejection, test, untilRunning } from "./_harness.ts";
import { CancelledError, type Executor, TimeoutError } from "../mod.ts";

/** Builds the executor under test. */
export type MakeRunExecutor = (options?: { maxWorkers?: number }) => Executor;

// ---- calls shipped to the pool: self-contained ----------------------------

const add = (a: number, b: number): number => a + b;

/** Never settles: holds its worker until stopped. */
const forever = (): Promise<never> => new Promise(() => {});

const sleepThen = async (ms: number, value?: unknown): Promise<unknown> => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return value;
};

/** Sets `globalThis[key]`: shows whether a call ran. */
const mark = (key: string): void => {
  (globalThis as unknown as Record<string, boolean>)[key] = true;
};

const marked = (key: string): boolean =>
  (globalThis as unknown as Record<string, boolean>)[key] === true;

let keys = 0;

/** A fresh `globalThis` key for one test. */
function newKey(): string {
  return `__runContract${keys++}_${Date.now()}`;
}

/**
 * Registers the `run()` tests for one executor.
 *
 * @param name The class name, for the test names.
 * @param make Builds the executor.
 */
export function runContract(name: string, make: MakeRunExecutor): void {
  test(`${name}.run() without limits is submit() with the arguments as an array`, async () => {
    await using pool = make();
    assert.equal(await pool.run(add, [2, 3]), 5);
    assert.equal(await pool.run(add, [2, 3], {}), 5);
  });

  test(`${name}.run() fails a call that runs past its timeout with TimeoutError, and the pool goes on`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const error = await rejection(pool.run(forever, [], { timeout: 50 }));
    assert.ok(error instanceof TimeoutError);
    assert.match(error.message, /timeout of 50 ms/);
    assert.equal(await pool.submit(add, 1, 1), 2);
  });

  test(`${name}.stats() counts a call stopped by its limit as failed, and a queued one cancelled by it in neither`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const controller = new AbortController();
    await pool.submit(add, 0, 0); // a worker is ready
    const running = pool.run(forever, [], { signal: controller.signal });
    const queued = pool.run(add, [1, 1], { signal: controller.signal });
    await untilRunning(running);
    assert.equal(pool.stats().running, 1);
    controller.abort();
    await rejection(running);
    assert.ok(queued.cancelled());
    const { completed, failed, running: left, queued: waiting } = pool.stats();
    assert.deepEqual([completed, failed, left, waiting], [1, 1, 0, 0]);
    assert.equal(await pool.submit(add, 2, 2), 4);
    assert.equal(pool.stats().completed, 2);
  });

  test(`${name}.run() counts the timeout from the start of the call, not from the queue`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const first = pool.submit(sleepThen, 300, "first");
    const second = pool.run(add, [1, 2], { timeout: 100 });
    assert.equal(await first, "first");
    assert.equal(await second, 3);
  });

  test(`${name}.run() fails a running call with the signal's reason when it aborts, and the pool goes on`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const controller = new AbortController();
    await pool.submit(add, 0, 0); // a worker is ready
    const running = pool.run(forever, [], { signal: controller.signal });
    await untilRunning(running);
    const reason = new Error("no longer needed");
    controller.abort(reason);
    assert.equal(await rejection(running), reason);
    assert.equal(await pool.submit(add, 2, 2), 4);
  });

  test(`${name}.run() cancels a queued call when its signal aborts, and it never runs`, async () => {
    const key = newKey();
    await using pool = make({ maxWorkers: 1 });
    const blocker = pool.submit(sleepThen, 100, "done");
    const controller = new AbortController();
    const queued = pool.run(mark, [key], { signal: controller.signal });
    controller.abort();
    assert.ok(queued.cancelled());
    assert.ok(await rejection(queued) instanceof CancelledError);
    assert.equal(await blocker, "done");
    assert.equal(await pool.submit(marked, key), false);
  });

  test(`${name}.run() with a signal aborted already cancels the call at once`, async () => {
    const key = newKey();
    await using pool = make({ maxWorkers: 1 });
    const future = pool.run(mark, [key], { signal: AbortSignal.abort() });
    assert.ok(future.cancelled());
    assert.equal(await pool.submit(marked, key), false);
  });

  test(`${name}.run() fails its own future on bad arguments or options`, async () => {
    await using pool = make();
    const bad: [unknown, unknown, RegExp][] = [
      [1, undefined, /as an array/],
      [[], { timeout: -1 }, /timeout must be a number of milliseconds >= 0/],
      [[], { timeout: "5" }, /timeout must be a number/],
      [[], { signal: {} }, /signal must be an AbortSignal/],
      [[], 5, /options must be an object/],
    ];
    for (const [args, options, message] of bad) {
      const error = await rejection(
        pool.run(add, args as [number, number], options as undefined),
      );
      assert.ok(error instanceof Error);
      assert.match(error.message, message);
    }
    assert.equal(await pool.run(add, [1, 1]), 2);
  });

  test(`${name}.map({ signal }) throws the reason from the iteration and cancels the calls not started`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const controller = new AbortController();
    const reason = new Error("stop the map");
    const results: unknown[] = [];
    const error = await rejection((async () => {
      const items = [0, 1, 2, 3, 4, 5];
      for await (
        const y of pool.map(
          (i: number) => i === 1 ? new Promise(() => {}) : i,
          items,
          { signal: controller.signal },
        )
      ) {
        results.push(y);
        controller.abort(reason);
      }
    })());
    assert.equal(error, reason);
    assert.deepEqual(results, [0]);
    assert.equal(await pool.submit(add, 3, 3), 6);
  });

  test(`${name}.map({ signal }) with a signal aborted already throws its reason at the call`, async () => {
    await using pool = make();
    const reason = new Error("aborted before");
    assert.throws(
      () => pool.map(add, [1], [2], { signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
  });
}

/** A pool of long-lived workers, for `workerRunContract`. */
export interface WorkerRunSetup {
  readonly name: string;
  readonly make: (options?: {
    maxWorkers?: number;
    onWorkerDeath?: "break" | "replace";
  }) => Executor;
  /** An export of the pool's modules that says which worker runs it. */
  readonly whoRuns: () => unknown;
  /** How the message of a `WorkerDiedError` says a worker that ran
   * `dieNow` ended. */
  readonly diedMessage: RegExp;
}

/**
 * Registers the tests of what stopping a call means in a pool of
 * long-lived workers.
 *
 * @param setup The pool under test.
 */
export function workerRunContract(setup: WorkerRunSetup): void {
  const { name, make, whoRuns, diedMessage } = setup;

  test(`${name}.run() stops a worker stuck in a busy loop on its timeout and starts another`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const before = await pool.submit(whoRuns);
    const spin = () => {
      for (;;);
    };
    const error = await rejection(pool.run(spin, [], { timeout: 100 }));
    assert.ok(error instanceof TimeoutError);
    const after = await pool.submit(whoRuns);
    assert.notEqual(after, before);
  });

  test(`${name}.run() sends no call behind a call with limits: stopping it runs the others once, on the next worker`, async () => {
    await using pool = make({ maxWorkers: 1 });
    // Many quick calls first: the worker's window grows.
    const quick = (x: number) => x;
    for (let i = 0; i < 5; i++) {
      await Promise.all(
        Array.from({ length: 200 }, (_, j) => pool.submit(quick, j)),
      );
    }
    const controller = new AbortController();
    const stuck = pool.run(forever, [], { signal: controller.signal });
    const behind = Array.from({ length: 50 }, (_, i) => pool.submit(quick, i));
    await untilRunning(stuck);
    // None went to the worker that is about to be stopped: all still wait,
    // and can still be cancelled.
    assert.ok(behind.every((future) => !future.running()));
    assert.ok(behind[49].cancel());
    controller.abort();
    assert.equal((await rejection(stuck) as Error).name, "AbortError");
    assert.deepEqual(
      await Promise.all(behind.slice(0, 49)),
      behind.slice(0, 49).map((_, i) => i),
    );
  });

  test(`${name}({ onWorkerDeath: "replace" }) fails the call that killed its worker and serves the rest`, async () => {
    await using pool = make({ maxWorkers: 1, onWorkerDeath: "replace" });
    const before = await pool.submit(whoRuns);
    const dying = pool.submit(dieNow);
    const behind = [1, 2, 3].map((x) => pool.submit(add, x, x));
    const error = await rejection(dying);
    assert.ok(error instanceof Error);
    assert.equal(error.name, "WorkerDiedError");
    assert.match(error.message, diedMessage);
    assert.deepEqual(await Promise.all(behind), [2, 4, 6]);
    assert.notEqual(await pool.submit(whoRuns), before);
  });

  test(`${name}({ onWorkerDeath: "replace" }) breaks when workers die in a loop`, async () => {
    await using pool = make({ maxWorkers: 1, onWorkerDeath: "replace" });
    const deaths = [];
    for (let i = 0; i < 4; i++) {
      deaths.push(await rejection(pool.submit(dieNow)));
    }
    assert.ok(deaths.every((e) => (e as Error).name === "WorkerDiedError"));
    const last = await rejection(pool.submit(dieNow));
    assert.match((last as Error).name, /^Broken/);
    assert.match((last as Error).message, /5 workers died within 10 s/);
  });

  test(`${name}({ onWorkerDeath }) rejects a value other than "break" and "replace"`, () => {
    assert.throws(
      () => make({ onWorkerDeath: "retry" as "replace" }),
      /onWorkerDeath must be "break" or "replace", got "retry"/,
    );
  });
}

/** Ends the worker it runs in: a process exits, a thread closes. */
const dieNow = (): void => {
  const g = globalThis as unknown as {
    Deno?: { exit(code: number): never };
    process?: { exit(code: number): never };
    WorkerGlobalScope?: unknown;
    close?: () => void;
  };
  if (g.WorkerGlobalScope !== undefined && g.close !== undefined) g.close();
  else if (g.Deno !== undefined) g.Deno.exit(7);
  else g.process!.exit(7);
};
