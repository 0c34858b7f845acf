import assert from "node:assert/strict";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  assertOwnErrors,
  missingPrograms,
  rejection,
  RUNTIMES,
  test,
} from "./_harness.ts";
import { executorContract } from "./_executor_contract.ts";
import { workerPoolContract } from "./_worker_pool_contract.ts";
import { runContract, workerRunContract } from "./_run_contract.ts";
import {
  BrokenExecutor,
  BrokenProcessPool,
  CancelledError,
  FrameTooLargeError,
  ShutdownError,
  WorkerDiedError,
} from "../mod.ts";
import { ProcessPoolExecutor } from "../executor/process_pool_executor.ts";
import { requireRuntime } from "../executor/_runtime.ts";
import type { RuntimeName } from "../workers/_runtime.ts";
import { workerCommand } from "../executor/_worker_command.ts";
import { runScript, type Script } from "./_script.ts";
import {
  addOffset,
  chatty,
  closeFd,
  exitWith,
  killSelf,
  pid,
  pidAfter,
  sleep,
} from "./fixtures/process_tasks.ts";

executorContract(
  "ProcessPoolExecutor",
  (options) => new ProcessPoolExecutor(options),
);

const runtime = requireRuntime("the process pool tests");
const TASKS = new URL("./fixtures/process_tasks.ts", import.meta.url);

/** A pool whose workers import the tasks fixture. */
function poolWithTasks(
  options: ConstructorParameters<typeof ProcessPoolExecutor>[0] = {},
): ProcessPoolExecutor {
  return new ProcessPoolExecutor({ modules: [TASKS], ...options });
}

workerPoolContract({
  name: "ProcessPoolExecutor",
  make: poolWithTasks,
  Broken: BrokenProcessPool,
  whoRuns: pid,
});
runContract("ProcessPoolExecutor", poolWithTasks);
workerRunContract({
  name: "ProcessPoolExecutor",
  make: poolWithTasks,
  whoRuns: pid,
  diedMessage: /exited with code 7/,
});

/** Whether `pid` is a live process (a zombie counts as gone). */
function isRunning(pid: number): boolean {
  if (existsSync("/proc/self/stat")) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return !"ZX".includes(stat[stat.lastIndexOf(")") + 2]);
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls until every pid is gone, failing after `ms`. */
async function assertGoneWithin(pids: number[], ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (pids.some(isRunning)) {
    if (performance.now() > deadline) {
      assert.fail(`still running after ${ms} ms: ${pids.filter(isRunning)}`);
    }
    // Polling: the operating system sends no event when a process goes.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ---- construction ---------------------------------------------------------

test("ProcessPoolExecutor() checks every option at construction, naming it, what was given and what it takes", () => {
  const cases: [object, ErrorConstructor, string][] = [
    [
      { modules: "abc" },
      TypeError,
      'modules must be a list of module URLs or paths, got "abc": modules: ["./tasks.ts"]',
    ],
    [
      { permissions: "bogus" },
      TypeError,
      'permissions must be "inherit", "none" or an object of grants such as { read: ["./data"], net: false }, got "bogus"',
    ],
    [
      { permissions: { read: 5 } },
      TypeError,
      'the "read" permission must be "inherit", a boolean or a list, got 5',
    ],
    [
      { command: [] },
      TypeError,
      "command must be a non-empty list of strings, the program first, got []",
    ],
    [
      { command: "deno run -A" },
      TypeError,
      'command must be a list of strings, the program first, got "deno run -A": write ["deno","run","-A"]',
    ],
    [
      { env: { HOME: 1 } },
      TypeError,
      "env.HOME must be a string, got 1",
    ],
    [
      { cwd: 5 },
      TypeError,
      "cwd must be a path or a file: URL, got 5",
    ],
    [
      { maxFrameBytes: "big" },
      TypeError,
      "maxFrameBytes must be a number of bytes, got string",
    ],
    [
      { onWorkerDeath: "retry" },
      TypeError,
      'onWorkerDeath must be "break" or "replace", got "retry"',
    ],
    [
      { maxFrameBytes: 0 },
      RangeError,
      "maxFrameBytes must be an integer from 1 to 4294967295, got 0",
    ],
    [
      { runtime: "python" },
      TypeError,
      'runtime must be "deno", "bun" or "node", got "python"',
    ],
    [
      { hosts: "alice@10.0.0.2" },
      TypeError,
      'hosts must be a non-empty list of ssh destinations or host objects, got "alice@10.0.0.2": hosts: ["alice@10.0.0.2", { host: "build-2", workers: 4 }]',
    ],
    [
      { hosts: ["-oProxyCommand=x"] },
      TypeError,
      'hosts[0] is not an ssh destination: "-oProxyCommand=x"',
    ],
    [
      { hosts: ["a", { host: "b", cores: 4 }] },
      TypeError,
      'hosts[1] has no field "cores": its fields are host, workers, runtime, ssh',
    ],
    [
      { hosts: [{ host: "a", workers: 0 }] },
      TypeError,
      "hosts[0].workers must be an integer >= 1, got 0",
    ],
    [
      { hosts: [{ host: "a", runtime: "py" }] },
      TypeError,
      'hosts[0].runtime must be "deno", "bun" or "node", got "py"',
    ],
    [
      { hosts: [{ host: "a", ssh: "-p 2222" }] },
      TypeError,
      'hosts[0].ssh must be a list of ssh options, got "-p 2222"',
    ],
    [
      { hosts: ["a"], command: ["ssh", "a", "deno", "run", "-A"] },
      TypeError,
      "hosts and command exclude each other: a pool across machines makes each machine's command line itself",
    ],
    [
      { hosts: ["a", "a"] },
      TypeError,
      "hosts lists a twice: give it `workers`",
    ],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(() => new ProcessPoolExecutor(options), (error: unknown) => {
      assert.ok(error instanceof type, JSON.stringify(options));
      assert.equal(error.message, message);
      return true;
    });
  }
});

// ---- shipping functions ---------------------------------------------------

test("ProcessPoolExecutor.submit() reuses its workers", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1 });
  const first = await pool.submit(pid);
  assert.notEqual(first, process.pid);
  assert.equal(await pool.submit(pid), first);
});

test("ProcessPoolExecutor.submit() compiles a method's source", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const shapes = {
    area(w: number, h: number): number {
      return w * h;
    },
    async perimeter(w: number, h: number): Promise<number> {
      await Promise.resolve();
      return 2 * (w + h);
    },
  };
  assert.equal(await pool.submit(shapes.area, 2, 3), 6);
  assert.equal(await pool.submit(shapes.perimeter, 2, 3), 10);
});

test("ProcessPoolExecutor.submit() runs a function sent by source in strict mode, as in its module", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  // In a module, `this` of a plain call is undefined and assigning an
  // undeclared variable throws; a sloppy compile would differ on both.
  const self = function (this: unknown): string {
    return typeof this;
  };
  assert.equal(await pool.submit(self), "undefined");
  const leak = (): number => {
    // @ts-ignore: an undeclared variable, on purpose
    leaked = 1;
    return 1;
  };
  const error = await rejection(pool.submit(leak));
  assert.ok(error instanceof ReferenceError);
  assert.match(error.message, /leaked/);
  assert.match(error.message, /leak was sent by source/);
});

// ---- values -----------------------------------------------------------------

test("ProcessPoolExecutor.submit() carries rich values to a worker and back", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const shared = { shared: true };
  const cyclic: Record<string, unknown> = { name: "cyclic" };
  cyclic.self = cyclic;
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const value = {
    numbers: [NaN, -0, Infinity, -Infinity, 1.5],
    missing: undefined,
    big: 12345678901234567890n,
    date: new Date(86_400_000),
    regexp: /a+b/gi,
    map: new Map<unknown, unknown>([[1, "one"], [shared, "object key"]]),
    set: new Set([1, "two", shared]),
    // deno-lint-ignore no-sparse-arrays
    sparse: [1, , 3],
    buffer: bytes.buffer,
    view: new Float64Array([0.5, -2]),
    slice: new DataView(bytes.buffer, 2, 4),
    error: new RangeError("out of range"),
    shared: [shared, shared],
    cyclic,
  };
  const back = await pool.submit((v: unknown) => v, value) as typeof value;
  assert.deepEqual(back, value);
  assert.equal(back.shared[0], back.shared[1]);
  assert.equal(back.cyclic.self, back.cyclic);
  assert.ok(back.error instanceof RangeError);
  assert.equal(1 / back.numbers[1], -Infinity);
  assert.equal(1 in back.sparse, false);
});

test("ProcessPoolExecutor.submit() fails the future of an argument that cannot be sent, and the pool stays healthy", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const future = pool.submit(
    (a: unknown, b: unknown) => [a, b],
    1,
    { items: [0, 1, 2, { cb: () => {} }] },
  );
  const error = await rejection(future);
  assert.ok(error instanceof Error);
  assert.equal(error.name, "DataCloneError");
  assert.equal(
    error.message,
    "argument 2 → .items[3].cb: function cannot be sent",
  );
  assert.equal(await pool.submit((x: number) => x * 2, 21), 42);
});

test("ProcessPoolExecutor.submit() fails the future of a result that cannot be sent, and the pool stays healthy", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const error = await rejection(pool.submit(() => ({ ok: 1, fn: () => 2 })));
  assert.ok(error instanceof Error);
  assert.equal(error.name, "DataCloneError");
  assert.equal(error.message, "result → .fn: function cannot be sent");
  assert.equal(await pool.submit(() => "still here"), "still here");
});

test("ProcessPoolExecutor.submit() fails a call whose frame exceeds maxFrameBytes, and the pool stays healthy", async () => {
  await using pool = new ProcessPoolExecutor({
    maxWorkers: 1,
    maxFrameBytes: 4096,
  });
  const big = "x".repeat(5000);
  const argument = await rejection(pool.submit((s: string) => s.length, big));
  assert.ok(argument instanceof FrameTooLargeError);
  assert.equal(argument.name, "FrameTooLargeError");
  assert.match(
    argument.message,
    /arguments .* over maxFrameBytes \(4096 bytes\)/,
  );
  const result = await rejection(
    pool.submit((n: number) => "y".repeat(n), 5000),
  );
  // Thrown in the worker, rebuilt here as one.
  assert.ok(result instanceof FrameTooLargeError);
  assert.equal(result.name, "FrameTooLargeError");
  assert.equal(result.limit, 4096);
  assert.match(result.message, /result .* over maxFrameBytes \(4096 bytes\)/);
  assert.equal(
    await pool.submit((n: number) => "z".repeat(n), 100),
    "z".repeat(100),
  );
});

test("ProcessPoolExecutor.submit() carries megabytes of typed arrays both ways, byte for byte", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  // Larger than any pipe read: every frame arrives in many chunks.
  const floats = Float64Array.from({ length: 1 << 19 }, (_, i) => i / 3);
  const head = new DataView(floats.buffer, 0, 64);
  const [back, sum] = await pool.submit(
    (a: Float64Array, view: DataView) => {
      const doubled = a.map((x) => 2 * x);
      return [doubled, view.getFloat64(8, true) + doubled[a.length - 1]];
    },
    floats,
    head,
  );
  assert.ok(back instanceof Float64Array);
  assert.deepEqual(back, floats.map((x) => 2 * x));
  assert.equal(sum, floats[1] + 2 * floats[floats.length - 1]);
  const made = await pool.submit((n: number) => {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = (i * 31) & 255;
    return { bytes, empty: new ArrayBuffer(0) };
  }, 3_000_001);
  assert.equal(made.bytes.length, 3_000_001);
  assert.equal(made.bytes[2_999_999], (2_999_999 * 31) & 255);
  assert.equal(made.empty.byteLength, 0);
});

test("ProcessPoolExecutor.submit() counts byte sections in maxFrameBytes", async () => {
  await using pool = new ProcessPoolExecutor({
    maxWorkers: 1,
    maxFrameBytes: 4096,
  });
  const argument = await rejection(
    pool.submit((b: Uint8Array) => b.length, new Uint8Array(5000)),
  );
  assert.ok(argument instanceof Error);
  assert.equal(argument.name, "FrameTooLargeError");
  const result = await rejection(
    pool.submit((n: number) => new Uint8Array(n), 5000),
  );
  assert.ok(result instanceof Error);
  assert.match(result.message, /result .* over maxFrameBytes \(4096 bytes\)/);
  assert.deepEqual(
    await pool.submit((b: Uint8Array) => b.reverse(), new Uint8Array([1, 2])),
    new Uint8Array([2, 1]),
  );
});

test("ProcessPoolExecutor.submit() keeps console output out of the results", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1 });
  const results = await Promise.all(
    [1, 2, 3].map((x) => pool.submit(chatty, x)),
  );
  assert.deepEqual(results, [1, 2, 3]);
});

// ---- errors -----------------------------------------------------------------

// ---- map -------------------------------------------------------------------

test("ProcessPoolExecutor.map() with chunksize fails only the item whose argument cannot be sent", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const results = pool.map(
    (x: unknown) => typeof x,
    [1, Symbol("nope"), "three"],
    { chunksize: 3 },
  );
  assert.deepEqual(await results.next(), { done: false, value: "number" });
  const error = await rejection(results.next());
  assert.ok(error instanceof Error);
  assert.equal(error.name, "DataCloneError");
  assert.equal(error.message, "argument 1: symbol cannot be sent");
});

test("ProcessPoolExecutor.map() with chunksize fails only the item whose result cannot be sent, and awaits async items", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  // Three inputs, an async item, a throwing one and an unsendable result.
  const pick = async (kind: string, a: number, b: number): Promise<unknown> => {
    if (kind === "async") return await Promise.resolve(a + b);
    if (kind === "throw") throw new TypeError(`bad ${a}`);
    if (kind === "function") return () => a;
    return a * b;
  };
  const results = pool.map(
    pick,
    ["async", "plain", "function", "throw", "plain"],
    [1, 2, 3, 4, 5],
    [10, 20, 30, 40, 50],
    { chunksize: 5 },
  );
  assert.deepEqual(await results.next(), { done: false, value: 11 });
  assert.deepEqual(await results.next(), { done: false, value: 40 });
  const error = await rejection(results.next());
  assert.ok(error instanceof Error);
  assert.equal(error.name, "DataCloneError");
  assert.equal(error.message, "result of item 3: function cannot be sent");
  const others = pool.map(pick, ["throw", "plain"], [7, 8], [0, 2], {
    chunksize: 2,
  });
  const thrown = await rejection(others.next());
  assert.ok(thrown instanceof TypeError);
  assert.equal(thrown.message, "bad 7");
});

// ---- initializer, maxTasksPerChild ----------------------------------------

test("ProcessPoolExecutor({ maxTasksPerChild }) ends the workers it replaces", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1, maxTasksPerChild: 2 });
  const pids = await Promise.all([...Array(6)].map(() => pool.submit(pid)));
  assert.equal(new Set(pids).size, 3);
  await pool.shutdown();
  await assertGoneWithin(pids, 2_000);
});

// ---- faults ----------------------------------------------------------------

test("ProcessPoolExecutor breaks when a worker is killed by SIGKILL mid-call: every future fails, no process is left", async () => {
  await using pool = poolWithTasks({ maxWorkers: 2 });
  // Two slow calls at once: one worker each, and a window of one call each.
  const pids = await Promise.all([
    pool.submit(pidAfter, 20),
    pool.submit(pidAfter, 20),
  ]);
  const running = pool.submit(sleep, 60_000);
  const killer = pool.submit(killSelf);
  const queued = [1, 2, 3].map(() => pool.submit(sleep, 60_000));
  const errors = [];
  for (const future of [running, killer, ...queued]) {
    const error = await rejection(future);
    assert.ok(error instanceof BrokenProcessPool);
    assert.match(error.message, /terminated abruptly/);
    assert.match(error.message, /was killed by SIGKILL/);
    errors.push(error);
  }
  assertOwnErrors(errors);
  assert.throws(() => pool.submit(pid), BrokenProcessPool);
  assert.throws(() => pool.map(addOffset, [1]), BrokenProcessPool);
  await pool.shutdown();
  for (const worker of pids) assert.equal(isRunning(worker), false);
});

test("ProcessPoolExecutor breaks when the parent kills a worker, naming the signal", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1 });
  const worker = await pool.submit(pid) as number;
  const running = pool.submit(sleep, 60_000);
  await Promise.resolve(); // the pool sends it at the end of the turn
  assert.equal(running.state, "RUNNING");
  process.kill(worker, "SIGKILL");
  const error = await rejection(running);
  assert.ok(error instanceof BrokenProcessPool);
  assert.match(
    error.message,
    new RegExp(`worker ${worker} was killed by SIGKILL`),
  );
  await pool.shutdown();
  assert.equal(isRunning(worker), false);
});

test("ProcessPoolExecutor breaks when a call exits its worker, naming the code and the last stderr lines", async () => {
  await using pool = poolWithTasks({ maxWorkers: 1 });
  const worker = await pool.submit(pid) as number;
  const exiting = pool.submit(exitWith, 3);
  const after = pool.submit(addOffset, 1);
  for (const future of [exiting, after]) {
    const error = await rejection(future);
    assert.ok(error instanceof BrokenProcessPool);
    assert.match(
      error.message,
      new RegExp(`worker ${worker} exited with code 3`),
    );
    assert.match(error.message, /exiting with 3 on purpose/);
  }
  await pool.shutdown();
  assert.equal(isRunning(worker), false);
});

test('ProcessPoolExecutor({ onWorkerDeath: "replace" }) fails the call with a WorkerDiedError that carries the exit code, signal and stderr', async () => {
  await using pool = poolWithTasks({
    maxWorkers: 1,
    onWorkerDeath: "replace",
  });
  const exited = await rejection(pool.submit(exitWith, 3));
  assert.ok(exited instanceof WorkerDiedError);
  assert.equal(exited.exitCode, 3);
  assert.equal(exited.signal, null);
  assert.match(exited.stderr, /exiting with 3 on purpose/);
  assert.equal(exited.host, undefined);
  const killed = await rejection(pool.submit(killSelf));
  assert.ok(killed instanceof WorkerDiedError);
  assert.equal(killed.exitCode, null);
  assert.equal(killed.signal, "SIGKILL");
  assert.equal(await pool.submit(addOffset, 1), 1001);
});

for (const fd of [1, 0]) {
  const pipe = fd === 1 ? "stdout" : "stdin";
  test(`ProcessPoolExecutor fails the call of a task that closes its ${pipe} as a death, and goes on`, async () => {
    await using pool = poolWithTasks({
      maxWorkers: 1,
      onWorkerDeath: "replace",
    });
    const worker = await pool.submit(pid) as number;
    // The worker answers, or not, before it finds that it cannot go on: the
    // closing call, or the next, fails with its death. (Bun writes stdout
    // through a descriptor of its own: closing fd 1 does not silence it.)
    const outcomes = [
      await pool.submit(closeFd, fd).catch((error) => error),
      await pool.submit(addOffset, 1).catch((error) => error),
    ];
    const deaths = outcomes.filter((outcome) => outcome instanceof Error);
    for (const death of deaths) {
      assert.ok(death instanceof WorkerDiedError, String(death));
      assert.match(death.message, new RegExp(`its ${pipe}`));
    }
    if (deaths.length > 0) await assertGoneWithin([worker], 2_000);
    assert.equal(await pool.submit(addOffset, 1), 1001);
  });
}

test("ProcessPoolExecutor.terminateWorkers() fails running calls, cancels queued ones, refuses new ones", async () => {
  const pool = poolWithTasks({ maxWorkers: 1 });
  const worker = await pool.submit(pid) as number;
  const running = pool.submit(sleep, 60_000);
  await Promise.resolve(); // the pool sends it at the end of the turn
  assert.equal(running.state, "RUNNING");
  const queued = pool.submit(sleep, 0);
  await pool.terminateWorkers();
  const error = await rejection(running);
  assert.ok(error instanceof BrokenProcessPool);
  assert.match(error.message, /terminateWorkers\(\)/);
  assert.match(error.message, /SIGTERM/);
  assert.ok(await rejection(queued) instanceof CancelledError);
  assert.throws(() => pool.submit(pid), ShutdownError);
  assert.equal(isRunning(worker), false);
  await pool.shutdown();
});

test("ProcessPoolExecutor.killWorkers() ends workers busy in a loop", async () => {
  const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const worker = await pool.submit(() => process.pid);
  const spinning = pool.submit(() => {
    for (;;);
  });
  await Promise.resolve(); // the pool sends it at the end of the turn
  assert.equal(spinning.state, "RUNNING");
  await pool.killWorkers();
  const error = await rejection(spinning);
  assert.ok(error instanceof BrokenExecutor);
  assert.match(error.message, /SIGKILL/);
  assert.equal(isRunning(worker), false);
});

// ---- runtime, command, env, cwd, permissions -------------------------------

for (const other of Object.keys(RUNTIMES) as RuntimeName[]) {
  if (other === runtime) continue;
  test(
    `ProcessPoolExecutor({ runtime: "${other}" }) runs workers on ${other}`,
    async () => {
      await using pool = new ProcessPoolExecutor({
        maxWorkers: 1,
        runtime: other,
      });
      const name = await pool.submit(() =>
        "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node"
      );
      assert.equal(name, other);
    },
    missingPrograms({ [other]: RUNTIMES[other] }),
  );
}

test("ProcessPoolExecutor({ command }) starts workers through a wrapper, with the entry appended", async () => {
  const program = {
    deno: [process.execPath, "run", "-A"],
    bun: [process.execPath, "run"],
    node: [process.execPath],
  }[runtime];
  await using pool = new ProcessPoolExecutor({
    maxWorkers: 1,
    command: ["env", "WRAPPED_BY=env", ...program],
  });
  assert.equal(await pool.submit(() => process.env.WRAPPED_BY), "env");
});

test("ProcessPoolExecutor({ command }) that exits at once, or cannot start, breaks the pool", async () => {
  await using exits = new ProcessPoolExecutor({ command: ["false"] });
  const exited = await rejection(exits.submit(() => 1));
  assert.ok(exited instanceof BrokenProcessPool);
  assert.match(exited.message, /exited with code 1/);
  await using missing = new ProcessPoolExecutor({
    command: ["no-such-program-for-the-pool"],
  });
  const unstarted = await rejection(missing.submit(() => 1));
  assert.ok(unstarted instanceof BrokenProcessPool);
  assert.match(unstarted.message, /cannot start/);
  assert.match(unstarted.message, /no-such-program-for-the-pool/);
});

test("ProcessPoolExecutor({ env, cwd }) sets the workers' environment and directory", async () => {
  const dir = mkdtempSync(`${tmpdir()}/process-pool-`);
  try {
    await using pool = new ProcessPoolExecutor({
      maxWorkers: 1,
      env: { POOL_TEST_VALUE: "42" },
      cwd: dir,
    });
    const [value, cwd, home] = await pool.submit(() => [
      process.env.POOL_TEST_VALUE,
      process.cwd(),
      process.env.HOME,
    ]);
    assert.equal(value, "42");
    assert.equal(cwd, realpathSync(dir));
    assert.equal(home, process.env.HOME, "the parent's environment is kept");
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("ProcessPoolExecutor({ permissions }) restricts Deno workers", async () => {
  await using pool = new ProcessPoolExecutor({
    maxWorkers: 1,
    permissions: "none",
  });
  const readEnv = pool.submit(() => process.env.HOME);
  if (runtime !== "deno") {
    // Bun and Node have no permissions.
    assert.equal(await readEnv, process.env.HOME);
  } else {
    const error = await rejection(readEnv);
    assert.ok(error instanceof Error);
    assert.match(error.name, /NotCapable|PermissionDenied/);
  }
});

if (runtime === "deno") {
  test('ProcessPoolExecutor({ permissions: "inherit" }) passes a partial grant (--allow-read=<dir>) on to Deno workers', async () => {
    const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
    const main = join(fixtures, "grants_parent.ts");
    const deno = Deno.execPath();
    const flags = [`--allow-read=${fixtures}`, `--allow-run=${deno}`];
    const script = runScript(
      [deno, "run", "--quiet", "--no-prompt", ...flags, main, main],
      {},
      20_000,
    );
    assert.match(JSON.parse(await script.line), /^read \d+ characters$/);
    assert.deepEqual(await script.exited, { code: 0, signal: null });
  });
}

// ---- exit hygiene -----------------------------------------------------------

/** Runs `tests/fixtures/<fixture>` as the pool's workers are run. */
function runFixture(
  fixture: string,
  env: Record<string, string>,
  deadlineMs: number,
): Script {
  const url = new URL(`./fixtures/${fixture}`, import.meta.url);
  return runScript(workerCommand(runtime, url), env, deadlineMs);
}

test("ProcessPoolExecutor lets a script that never calls shutdown() exit, and its workers with it", async () => {
  const parent = runFixture("pool_parent.ts", { MODE: "forget" }, 20_000);
  const pids = JSON.parse(await parent.line) as number[];
  assert.equal(pids.length, 2);
  assert.deepEqual(await parent.exited, { code: 0, signal: null });
  await assertGoneWithin(pids, 2_000);
});

test("ProcessPoolExecutor's workers exit within a second when their parent is killed with SIGKILL", async () => {
  const parent = runFixture("pool_parent.ts", { MODE: "hold" }, 20_000);
  const pids = JSON.parse(await parent.line) as number[];
  assert.ok(pids.every(isRunning));
  parent.kill();
  assert.deepEqual(await parent.exited, { code: null, signal: "SIGKILL" });
  await assertGoneWithin(pids, 1_000);
});

/** The runtimes a pool of this runtime can run workers on here, with why
 * the others cannot. */
const WORKER_RUNTIMES = (Object.keys(RUNTIMES) as RuntimeName[]).map(
  (workers) => ({
    workers,
    skip: workers === runtime
      ? undefined
      : missingPrograms({ [workers]: RUNTIMES[workers] }),
  }),
);

for (const { workers, skip } of WORKER_RUNTIMES) {
  test(
    `ProcessPoolExecutor's ${workers} workers busy in a loop that never yields are gone within a second of their parent's SIGKILL`,
    async () => {
      const parent = runFixture(
        "pool_parent.ts",
        { MODE: "spin", RUNTIME: workers },
        20_000,
      );
      const pids = JSON.parse(await parent.line) as number[];
      // Both say so once they spin: from then on they never read stdin.
      await parent.output(/(spinning \d+\n[^]*){2}/);
      parent.kill();
      assert.deepEqual(await parent.exited, { code: null, signal: "SIGKILL" });
      await assertGoneWithin(pids, 1_000);
    },
    skip,
  );

  test(
    `ProcessPoolExecutor passes what its ${workers} workers write on stdout on to its own stdout, and their calls go on`,
    async () => {
      const parent = runFixture(
        "stray_output_parent.ts",
        { RUNTIME: workers },
        20_000,
      );
      assert.deepEqual(await parent.exited, { code: 0, signal: null });
      const stdout = new TextDecoder().decode(await parent.stdout);
      const [output, results] = stdout.split("\nresults ");
      const expected = [
        "through process.stdout\n",
        "through fs.writeSync\n",
        "\0\0\u0001\0{",
        "\0\0\u0001\0\0",
        "after the header-like bytes\n",
        ...workers === "deno" ? ["through Deno.stdout\n"] : [],
      ];
      assert.equal(output, expected.join(""));
      assert.deepEqual(
        JSON.parse(results),
        [...expected.map((text) => new TextEncoder().encode(text).length), 42],
      );
    },
    skip,
  );
}

test("ProcessPoolExecutor serves a main module that lists itself in `modules` from its top-level await", async () => {
  const script = runFixture("self_listing_main.ts", {}, 20_000);
  assert.equal(await script.line, "15");
  assert.deepEqual(await script.exited, { code: 0, signal: null });
});
