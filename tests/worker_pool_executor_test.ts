import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import process from "node:process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  assertOwnErrors,
  missingPrograms,
  rejection,
  test,
} from "./_harness.ts";
import { executorContract } from "./_executor_contract.ts";
import { workerPoolContract } from "./_worker_pool_contract.ts";
import { runContract, workerRunContract } from "./_run_contract.ts";
import {
  BrokenExecutor,
  BrokenWorkerPool,
  CancelledError,
  DataCloneError,
  ShutdownError,
} from "../mod.ts";
import {
  transfer,
  WorkerPoolExecutor,
  type WorkerPoolExecutorOptions,
} from "../executor/worker_pool_executor.ts";
import { executablePath, requireRuntime } from "../executor/_runtime.ts";
import { runScript } from "./_script.ts";
import { addOffset, remember } from "./fixtures/process_tasks.ts";
import {
  closeSelf,
  exitWith,
  makeBuffer,
  never,
  rejectLater,
  size,
  sleep,
  thread,
  threadAfter,
  throwLater,
  throwRevokedLater,
} from "./fixtures/worker_tasks.ts";

executorContract(
  "WorkerPoolExecutor",
  (options) => new WorkerPoolExecutor(options),
);

const runtime = requireRuntime("the worker pool tests");
const MODULES = [
  new URL("./fixtures/worker_tasks.ts", import.meta.url),
  new URL("./fixtures/process_tasks.ts", import.meta.url),
];

/** A pool whose workers import the task fixtures. */
function poolWithTasks(
  options: WorkerPoolExecutorOptions = {},
): WorkerPoolExecutor {
  return new WorkerPoolExecutor({ modules: MODULES, ...options });
}

workerPoolContract({
  name: "WorkerPoolExecutor",
  make: poolWithTasks,
  Broken: BrokenWorkerPool,
  whoRuns: thread,
});
runContract("WorkerPoolExecutor", poolWithTasks);
workerRunContract({
  name: "WorkerPoolExecutor",
  make: poolWithTasks,
  whoRuns: thread,
  diedMessage: /closed itself/,
});

/** Asserts that `error` is the `DataCloneError` with `message`. */
function assertCloneError(error: unknown, message: string | RegExp): void {
  assert.ok(error instanceof DataCloneError);
  assert.equal(error.name, "DataCloneError");
  if (typeof message === "string") assert.equal(error.message, message);
  else assert.match(error.message, message);
}

// ---- construction ---------------------------------------------------------

// ---- threads and shipping functions -----------------------------------------

test("WorkerPoolExecutor.submit() reuses its worker threads, and runs concurrent calls on different ones", async () => {
  await using pool = poolWithTasks({ maxWorkers: 2 });
  const first = await pool.submit(thread);
  assert.notEqual(first, thread(), "the call ran on this thread");
  assert.equal(await pool.submit(thread), first);
  const both = await Promise.all([
    pool.submit(threadAfter, 20),
    pool.submit(threadAfter, 20),
  ]);
  assert.notEqual(both[0], both[1]);
});

// ---- values -----------------------------------------------------------------

test("WorkerPoolExecutor.submit() carries values by structured clone, there and back", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const shared = { shared: true };
  const cyclic: Record<string, unknown> = { name: "cyclic" };
  cyclic.self = cyclic;
  const value = {
    numbers: [NaN, -0, Infinity, 1.5],
    missing: undefined,
    big: 12345678901234567890n,
    date: new Date(86_400_000),
    regexp: /a+b/gi,
    map: new Map<unknown, unknown>([[1, "one"], [shared, "object key"]]),
    set: new Set([1, "two", shared]),
    bytes: new Uint8Array([1, 2, 3]),
    shared: [shared, shared],
    cyclic,
  };
  const back = await pool.submit((v: unknown) => v, value) as typeof value;
  assert.deepEqual(back, value);
  assert.equal(back.shared[0], back.shared[1]);
  assert.equal(back.cyclic.self, back.cyclic);
  assert.equal(Object.is(back.numbers[1], -0), true);
});

test("WorkerPoolExecutor.submit() with transfer() moves an ArrayBuffer: detached here once submitted", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1 });
  const bytes = new Uint8Array(1 << 20).fill(1);
  const future = pool.submit(size, transfer(bytes, [bytes.buffer]));
  assert.equal(bytes.byteLength, 0);
  assert.equal(bytes.buffer.byteLength, 0);
  assert.equal(await future, 1 << 20);
  // A task moves its result back the same way.
  const back = await pool.submit(makeBuffer, 1024, 9);
  assert.ok(back instanceof Uint8Array);
  assert.equal(back.length, 1024);
  assert.equal(back[1023], 9);
});

test("WorkerPoolExecutor.submit() with transfer() of a value that cannot be cloned fails its future", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1 });
  const buffer = new ArrayBuffer(8);
  const future = pool.submit(
    (v: unknown) => v,
    transfer({ buffer, cb: () => {} }, [buffer]),
  );
  assertCloneError(
    await rejection(future),
    "argument 1 → .cb: function cannot be sent",
  );
  // Deno detaches the buffers of a clone that fails all the same.
  assert.equal(buffer.byteLength, runtime === "deno" ? 0 : 8);
});

test("WorkerPoolExecutor.submit() fails the future of an argument that cannot be cloned, and the others of its turn run", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1 });
  const pair = (a: unknown, b: unknown) => [a, b];
  // All of them go to the worker in one turn, and one cannot be cloned.
  const before = pool.submit(pair, 1, 2);
  const bad = pool.submit(pair, 1, { items: [0, 1, 2, { cb: () => {} }] });
  const bytes = new Uint8Array(64);
  const moved = pool.submit(size, transfer(bytes, [bytes.buffer]));
  const after = pool.submit(pair, 3, 4);
  assertCloneError(
    await rejection(bad),
    "argument 2 → .items[3].cb: function cannot be sent",
  );
  assert.deepEqual(await before, [1, 2]);
  assert.equal(await moved, 64);
  assert.deepEqual(await after, [3, 4]);
  assert.equal(await pool.submit((x: number) => x * 2, 21), 42);
});

test("WorkerPoolExecutor.submit() fails the future of a result that cannot be cloned, and the pool stays healthy", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const error = await rejection(pool.submit(() => ({ ok: 1, fn: () => 2 })));
  assertCloneError(error, "result → .fn: function cannot be sent");
  assert.equal(await pool.submit(() => "still here"), "still here");
});

// ---- map ---------------------------------------------------------------------

test("WorkerPoolExecutor.map() with chunksize fails only the items whose argument or result cannot be cloned", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const kinds = pool.map(
    (x: unknown) => typeof x,
    [1, Symbol("nope"), "three"],
    { chunksize: 3 },
  );
  assert.deepEqual(await kinds.next(), { done: false, value: "number" });
  assertCloneError(
    await rejection(kinds.next()),
    "argument 1: symbol cannot be sent",
  );
  const results = pool.map(
    (x: number) => x === 2 ? { fn: () => x } : x,
    [1, 2, 3],
    { chunksize: 3 },
  );
  assert.deepEqual(await results.next(), { done: false, value: 1 });
  assertCloneError(
    await rejection(results.next()),
    "result of item 2 → .fn: function cannot be sent",
  );
});

// ---- initializer, maxTasksPerChild ----------------------------------------

test("WorkerPoolExecutor({ initargs }) that cannot be cloned breaks the pool, naming the culprit", async () => {
  await using pool = poolWithTasks({
    maxWorkers: 1,
    initializer: remember,
    initargs: ["key", { cb: () => {} }],
  });
  const error = await rejection(pool.submit(thread));
  assert.ok(error instanceof BrokenWorkerPool);
  assert.match(error.message, /cannot start its workers/);
  assert.match(error.message, /argument 2 → \.cb: function cannot be sent/);
});

// ---- faults ----------------------------------------------------------------

test("WorkerPoolExecutor breaks on an error thrown outside any task, with that error as cause", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1 });
  const thrower = pool.submit(throwLater, "thrown outside");
  const running = pool.submit(sleep, 60_000);
  const queued = pool.submit(sleep, 0);
  assert.equal(await thrower, "scheduled");
  const errors = [];
  for (const future of [running, queued]) {
    const error = await rejection(future);
    assert.ok(error instanceof BrokenWorkerPool);
    assert.match(error.message, /threw an uncaught error outside any task/);
    assert.ok(error.cause instanceof TypeError);
    assert.equal(error.cause.message, "thrown outside");
    errors.push(error);
  }
  assertOwnErrors(errors);
  assert.throws(() => pool.submit(thread), BrokenWorkerPool);
  assert.throws(() => pool.map(addOffset, [1]), BrokenWorkerPool);
});

test("WorkerPoolExecutor breaks on a fault outside any task whose error cannot even be read (posted by the worker, or else reported by the runtime)", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1 });
  const thrower = pool.submit(throwRevokedLater);
  const running = pool.submit(sleep, 60_000);
  assert.equal(await thrower, "scheduled");
  const error = await rejection(running);
  assert.ok(error instanceof BrokenWorkerPool, String(error));
});

test("WorkerPoolExecutor breaks on a promise rejection left unhandled outside any task, with it as cause", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1 });
  const rejecter = pool.submit(rejectLater, "rejected outside");
  const running = pool.submit(sleep, 60_000);
  assert.equal(await rejecter, "scheduled");
  const error = await rejection(running);
  assert.ok(error instanceof BrokenWorkerPool);
  assert.match(error.message, /outside any task/);
  assert.ok(error.cause instanceof RangeError);
  assert.equal(error.cause.message, "rejected outside");
  assert.throws(() => pool.submit(thread), BrokenWorkerPool);
});

test("WorkerPoolExecutor breaks when a task calls self.close(), saying the worker closed itself", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1 });
  const before = pool.submit(thread);
  const closing = pool.submit(closeSelf);
  const after = pool.submit(thread);
  assert.equal(typeof await before, "string");
  for (const future of [closing, after]) {
    const error = await rejection(future);
    assert.ok(error instanceof BrokenWorkerPool);
    assert.match(error.message, /closed itself with self\.close\(\)/);
  }
  assert.throws(() => pool.submit(thread), BrokenWorkerPool);
});

test("WorkerPoolExecutor breaks when a task calls process.exit(), naming it", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1 });
  const error = await rejection(pool.submit(exitWith, 3));
  assert.ok(error instanceof BrokenWorkerPool);
  assert.match(error.message, /closed itself with (process|Deno)\.exit\(3\)/);
});

test("WorkerPoolExecutor.terminateWorkers() fails running calls, cancels queued ones, refuses new ones", async () => {
  const pool = poolWithTasks({ maxWorkers: 1 });
  await pool.submit(thread); // the worker is up
  const running = pool.submit(never);
  await Promise.resolve(); // the pool sends it at the end of the turn
  assert.equal(running.state, "RUNNING");
  const queued = pool.submit(sleep, 0);
  await pool.terminateWorkers();
  const error = await rejection(running);
  assert.ok(error instanceof BrokenWorkerPool);
  assert.match(error.message, /terminateWorkers\(\)/);
  assert.ok(await rejection(queued) instanceof CancelledError);
  assert.throws(() => pool.submit(thread), ShutdownError);
  await pool.shutdown();
});

test("WorkerPoolExecutor.killWorkers() ends workers whose calls never settle", async () => {
  const pool = poolWithTasks({ maxWorkers: 2 });
  await Promise.all([
    pool.submit(threadAfter, 10),
    pool.submit(threadAfter, 10),
  ]);
  const stuck = [pool.submit(never), pool.submit(never)];
  await Promise.resolve(); // the pool sends them at the end of the turn
  assert.deepEqual(stuck.map((future) => future.state), ["RUNNING", "RUNNING"]);
  await pool.killWorkers();
  for (const future of stuck) {
    assert.ok(await rejection(future) instanceof BrokenExecutor);
  }
});

// ---- exit hygiene and permissions, in a script of their own --------------------

/** Runs `tests/fixtures/worker_pool_parent.ts` in `mode`, with Deno
 * `flags`. */
/** Runs `fixtures/worker_pool_parent.ts`; `flags` are Deno's. */
function runParent(mode: string, deadlineMs: number, flags = ["-A"]) {
  const script = new URL("./fixtures/worker_pool_parent.ts", import.meta.url)
    .pathname;
  const command = runtime === "deno"
    ? [executablePath(), "run", "--quiet", "--no-prompt", ...flags, script]
    : [executablePath(), script];
  return runScript(command, { MODE: mode }, deadlineMs);
}

const EXITED = { code: 0, signal: null };
/** How a script ends on an uncaught error, rather than Deno ending it. */
const UNCAUGHT = { code: 1, signal: null };

test("WorkerPoolExecutor lets a script that shuts it down with `await using` exit", async () => {
  const script = runParent("dispose", 20_000);
  assert.equal(JSON.parse(await script.line).length, 2);
  assert.deepEqual(await script.exited, EXITED);
});

test("WorkerPoolExecutor lets a script that never calls shutdown() exit: idle workers are unref'd", async () => {
  const script = runParent("forget", 20_000);
  assert.equal(JSON.parse(await script.line).length, 2);
  assert.deepEqual(await script.exited, EXITED);
});

test("WorkerPoolExecutor.terminateWorkers() after shutdown({ wait: false }) settles every future and lets the script exit", async () => {
  const script = runParent("stuck", 20_000);
  const [running, ...queued] = JSON.parse(await script.line);
  assert.deepEqual(running.slice(0, 2), ["FINISHED", "BrokenWorkerPool"]);
  for (const future of queued) {
    assert.ok(["CANCELLED", "FINISHED"].includes(future[0]), future[0]);
  }
  assert.deepEqual(await script.exited, EXITED);
});

test("WorkerPoolExecutor.terminateWorkers() settles every future of a task that never yields (a busy loop)", async () => {
  const script = runParent("spin", 20_000);
  const [running, ...queued] = JSON.parse(await script.line);
  assert.deepEqual(running.slice(0, 2), ["FINISHED", "BrokenWorkerPool"]);
  for (const future of queued) {
    assert.ok(["CANCELLED", "FINISHED"].includes(future[0]), future[0]);
  }
  assert.deepEqual(await script.exited, EXITED);
});

test("WorkerPoolExecutor reports a worker's fault once, as its own: the runtime reports nothing of it", async () => {
  const script = runParent("fault", 20_000);
  const [state, name, message] = JSON.parse(await script.line);
  assert.deepEqual([state, name], ["FINISHED", "BrokenWorkerPool"]);
  assert.match(message, /threw an uncaught error outside any task/);
  assert.deepEqual(await script.exited, EXITED);
  // Deno, left to itself, also ends the worker and reports the error, by a
  // path that can overtake the worker's own report.
  assert.doesNotMatch(await script.stderr, /Uncaught|thrown outside/);
});

test("WorkerPoolExecutor({ permissions }) restricts Deno workers (ignored by Bun and Node)", async () => {
  if (runtime !== "deno") {
    await using pool = new WorkerPoolExecutor({
      maxWorkers: 1,
      permissions: "none",
    });
    assert.equal(await pool.submit(() => process.env.HOME), process.env.HOME);
    return;
  }
  const allowed = runParent("permissions", 20_000, [
    "-A",
    "--unstable-worker-options",
  ]);
  const [state, name] = JSON.parse(await allowed.line);
  assert.equal(state, "FINISHED");
  assert.match(name, /NotCapable|PermissionDenied/);
  assert.deepEqual(await allowed.exited, EXITED);
  // Without the flag Deno would end the process at the first worker: the
  // pool refuses the option at once instead.
  const refused = runParent("permissions", 20_000);
  await assert.rejects(refused.line, /--unstable-worker-options/);
  assert.deepEqual(await refused.exited, UNCAUGHT);
});

if (runtime === "deno") {
  const root = fileURLToPath(new URL("..", import.meta.url));

  test("WorkerPoolExecutor({ permissions }) is refused at once where Deno cannot tell whether --unstable-worker-options is on", async () => {
    // Without -A, Deno does not let the pool read its own command line.
    const script = runParent("permissions", 20_000, [
      `--allow-read=${root}`,
      "--allow-env",
      "--unstable-worker-options",
    ]);
    await assert.rejects(
      script.line,
      /cannot tell whether it has the flag .* put the key in deno\.json/,
    );
    assert.deepEqual(await script.exited, UNCAUGHT);
  });

  test("WorkerPoolExecutor() under a Deno that may not read the worker modules is refused at once, naming the flag", async () => {
    const fixtures = join(root, "tests", "fixtures");
    const workers = join(root, "workers");
    const script = runParent("dispose", 20_000, [
      `--allow-read=${fixtures}`,
      "--allow-env",
    ]);
    await assert.rejects(
      script.line,
      new RegExp(
        `read access to its worker modules .* --allow-read=${workers} `,
      ),
    );
    assert.deepEqual(await script.exited, UNCAUGHT);
  });
}

test(
  "WorkerPoolExecutor's module graph holds no spawn adapter, process transport or frame protocol",
  () => {
    const entry = fileURLToPath(
      new URL("../executor/worker_pool_executor.ts", import.meta.url),
    );
    const info = JSON.parse(
      execFileSync("deno", ["info", "--json", entry], { encoding: "utf8" }),
    ) as { modules: { specifier: string }[] };
    const files = info.modules.map(({ specifier }) =>
      specifier.replace(/^.*\/(executor|workers|future)\//, "$1/")
    );
    assert.ok(files.includes("executor/_engine.ts")); // the graph was read
    const processSide = files.filter((file) =>
      /^executor\/_(spawn|child_process|process_transport|worker_command)/
        .test(file) ||
      file === "workers/_protocol.ts" ||
      file.startsWith("node:child_process")
    );
    assert.deepEqual(processSide, []);
  },
  missingPrograms({ deno: 2 }),
);
