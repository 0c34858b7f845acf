/**
 * What the two pools of long-lived workers (`ProcessPoolExecutor`,
 * `WorkerPoolExecutor`) do alike beyond the executor contract: options,
 * shipping functions by reference and by source, rebuilding a worker's
 * errors, `map` with `chunksize`, the initializer and `maxTasksPerChild`.
 * Written once and run by each pool's test file with
 * `workerPoolContract(setup)`; what only one pool does stays in its file.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rejection, test } from "./_harness.ts";
import type { BrokenExecutor, Executor } from "../mod.ts";
import {
  addOffset,
  failToStart,
  overQuota,
  recall,
  remember,
} from "./fixtures/process_tasks.ts";

const PARENT_ONLY = new URL("./fixtures/parent_only.ts", import.meta.url);

/** The options of `make` that the contract uses. */
export interface WorkerPoolOptions {
  maxWorkers?: number;
  maxTasksPerChild?: number;
  // deno-lint-ignore no-explicit-any
  initializer?: (...args: any[]) => unknown;
  initargs?: unknown[];
  modules?: URL[];
}

/** A pool under test. */
export interface WorkerPool extends Executor {
  readonly maxWorkers: number;
}

/** How a test file hands its pool to the contract. */
export interface WorkerPoolSetup {
  /** The class name, for the test names. */
  readonly name: string;
  /** Builds a pool whose workers import `fixtures/process_tasks.ts`. */
  readonly make: (options?: WorkerPoolOptions) => WorkerPool;
  /** The pool's `Broken…` class. */
  readonly Broken: abstract new (...args: never[]) => BrokenExecutor;
  /** An export of the pool's modules that says which worker runs it. */
  readonly whoRuns: () => unknown;
}

/**
 * Registers the shared tests for one pool.
 *
 * @param setup The pool under test.
 */
export function workerPoolContract(setup: WorkerPoolSetup): void {
  const { name, make, Broken, whoRuns } = setup;

  test(`${name}() defaults maxWorkers to navigator.hardwareConcurrency`, async () => {
    await using pool = make();
    assert.equal(pool.maxWorkers, navigator.hardwareConcurrency);
  });

  test(`${name}() checks maxTasksPerChild`, () => {
    const cases: [number, ErrorConstructor, string][] = [
      [0, RangeError, "maxTasksPerChild must be >= 1"],
      [
        1.5,
        TypeError,
        "maxTasksPerChild must be an integer or undefined, got 1.5",
      ],
    ];
    for (const [maxTasksPerChild, type, message] of cases) {
      assert.throws(() => make({ maxTasksPerChild }), (error: unknown) => {
        assert.ok(error instanceof type, String(maxTasksPerChild));
        assert.equal(error.message, message);
        return true;
      });
    }
  });

  // ---- shipping functions -------------------------------------------------

  test(`${name}.submit() sends an export of \`modules\` by reference, with its module scope`, async () => {
    await using pool = make({ maxWorkers: 1 });
    assert.equal(await pool.submit(addOffset, 1), 1001);
    assert.equal(await pool.submit(addOffset, 2), 1002);
  });

  test(`${name}.submit() fails a closure over an outer variable with a ReferenceError and a hint`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const offset = 1000;
    const addLocalOffset = (x: number): number => x + offset;
    const error = await rejection(pool.submit(addLocalOffset, 1));
    assert.ok(error instanceof ReferenceError);
    assert.match(error.message, /offset/);
    assert.match(error.message, /addLocalOffset was sent by source/);
    assert.match(
      error.message,
      /functions sent by source cannot use variables from their defining scope: move it into a module listed in `modules`/,
    );
    assert.equal(await pool.submit((x: number) => x + 1, 1), 2);
  });

  test(`${name}.submit() fails the own future of a native or bound function, naming it`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const max = pool.submit(Math.max, 1, 2);
    const add = (a: number, b: number): number => a + b;
    const bound = pool.submit(add.bind(null, 1), 2);
    const maxError = await rejection(max);
    assert.ok(maxError instanceof Error);
    assert.equal(maxError.name, "DataCloneError");
    assert.match(maxError.message, /"max"/);
    assert.match(maxError.message, /native function/);
    assert.match(
      maxError.message,
      /module listed in the pool's `modules` option/,
    );
    const boundError = await rejection(bound);
    assert.ok(boundError instanceof Error);
    assert.equal(boundError.name, "DataCloneError");
    assert.match(boundError.message, /"bound add"/);
    assert.match(boundError.message, /`modules`/);
    assert.equal(await pool.submit(add, 1, 2), 3);
  });

  test(`${name}.submit() rebuilds a worker's error with its class, name, message, properties and stack`, async () => {
    await using pool = make({ maxWorkers: 1 });
    const typeError = await rejection(
      pool.submit(() => {
        throw new TypeError("not a number");
      }),
    );
    assert.ok(typeError instanceof TypeError);
    assert.equal(typeError.message, "not a number");
    const quota = await rejection(pool.submit(overQuota, 5));
    assert.ok(quota instanceof Error);
    assert.equal(quota.name, "QuotaError");
    assert.equal(quota.message, "over quota by 5");
    assert.equal((quota as unknown as { excess: number }).excess, 5);
    // The cause holds the worker's stack, and keeps the error's own cause.
    const remote = quota.cause;
    assert.ok(remote instanceof Error);
    assert.match(remote.message, /QuotaError: over quota by 5/);
    assert.match(remote.message, /overQuota/);
    assert.ok(remote.cause instanceof RangeError);
    assert.equal(remote.cause.message, "the quota is 10");
  });

  // ---- map ------------------------------------------------------------------

  test(`${name}.map() with chunksize keeps each item's result or exception`, async () => {
    await using pool = make({ maxWorkers: 2 });
    const inverse = (x: number): number => {
      if (x === 0) throw new RangeError("no inverse of 0");
      return 1 / x;
    };
    const results = pool.map(inverse, [1, 2, 4, 0, 5], { chunksize: 2 });
    assert.deepEqual(await results.next(), { done: false, value: 1 });
    assert.deepEqual(await results.next(), { done: false, value: 0.5 });
    assert.deepEqual(await results.next(), { done: false, value: 0.25 });
    const error = await rejection(results.next());
    assert.ok(error instanceof RangeError);
    assert.equal(error.message, "no inverse of 0");
    const items = [...Array(3000).keys()];
    const doubled = await Array.fromAsync(
      pool.map((x: number) => 2 * x, items, { chunksize: 1000 }),
    );
    assert.deepEqual(doubled, items.map((x) => 2 * x));
  });

  // ---- initializer, maxTasksPerChild ---------------------------------------

  test(`${name}({ initializer }) from \`modules\` runs in each worker before its calls`, async () => {
    await using pool = make({
      maxWorkers: 1,
      initializer: remember,
      initargs: ["greeting", new Map([["hello", "world"]])],
    });
    assert.deepEqual(
      await pool.submit(recall, "greeting"),
      new Map([["hello", "world"]]),
    );
  });

  test(`${name}({ initializer }) that throws breaks the pool with ${Broken.name} caused by its error`, async () => {
    await using pool = make({ maxWorkers: 2, initializer: failToStart });
    const futures = [1, 2, 3].map((x) => pool.submit(addOffset, x));
    for (const future of futures) {
      const error = await rejection(future);
      assert.ok(error instanceof Broken);
      assert.match(error.message, /initializer failed/);
      assert.ok(error.cause instanceof TypeError);
      assert.equal(error.cause.message, "no database here");
    }
    assert.throws(() => pool.submit(addOffset, 1), Broken);
  });

  test(`${name}({ modules }) that a worker cannot import breaks the pool, without blaming an initializer`, async () => {
    (globalThis as { importedByParent?: boolean }).importedByParent = true;
    await using pool = make({ maxWorkers: 1, modules: [PARENT_ONLY] });
    const error = await rejection(pool.submit((x: number) => x + 1, 1));
    assert.ok(error instanceof Broken);
    assert.match(error.message, /could not import the pool's modules/);
    assert.doesNotMatch(error.message, /initializer/);
    assert.ok(error.cause instanceof TypeError);
    assert.equal(
      error.cause.message,
      "this module imports in the pool's parent only",
    );
  });

  test(`${name}({ maxTasksPerChild }) replaces a worker after that many calls`, async () => {
    await using pool = make({ maxWorkers: 1, maxTasksPerChild: 2 });
    const ids = await Promise.all(
      [...Array(6)].map(() => pool.submit(whoRuns)),
    );
    assert.equal(ids[0], ids[1]);
    assert.equal(ids[2], ids[3]);
    assert.equal(ids[4], ids[5]);
    assert.equal(new Set(ids).size, 3);
  });
}
