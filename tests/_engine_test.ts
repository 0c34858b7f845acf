/**
 * The engine on its own, with fake workers that the tests drive by hand:
 * what it sends, when, to whom, and what it does when a worker answers,
 * dies or runs out of tasks.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { Future } from "../future/future.ts";
import { WorkerDiedError } from "../future/errors.ts";
import {
  type BreakReason,
  Engine,
  type EngineHost,
  type EngineOptions,
} from "../executor/_engine.ts";
import type {
  EngineItem,
  EngineWorker,
  WorkerListener,
} from "../executor/_worker_transport.ts";

/** A call whose result is its argument. */
class FakeCall implements EngineItem {
  readonly future = new Future<unknown>();
  readonly calls = 1;
  readonly value: unknown;
  constructor(value: unknown) {
    this.value = value;
  }
  finish(ok: boolean, value: unknown): number {
    if (ok) this.future.setResult(value);
    else this.future.setException(value);
    return ok ? 0 : 1;
  }
}

/** A worker that keeps what it is sent until the test answers it. */
class FakeWorker implements EngineWorker<FakeCall> {
  /** Calls flushed to it, oldest first, not yet answered. */
  readonly calls: [number, FakeCall][] = [];
  #queued: [number, FakeCall][] = [];
  closed = false;
  killed: string | undefined;
  held = true;
  readonly listener: WorkerListener;

  constructor(listener: WorkerListener) {
    this.listener = listener;
  }

  send(id: number, item: FakeCall): void {
    this.#queued.push([id, item]);
  }
  flush(): void {
    this.calls.push(...this.#queued);
    this.#queued = [];
  }
  close(): void {
    this.closed = true;
  }
  kill(signal: string): void {
    this.killed = signal;
  }
  hold(held: boolean): void {
    this.held = held;
  }

  /** Answers its oldest `count` calls with their values, in one read, as
   * a worker busy `busyMs` on them. */
  answer(count = this.calls.length, busyMs = 0.01 * count): void {
    for (const [id, call] of this.calls.splice(0, count)) {
      this.listener.answered(id, true, call.value);
    }
    this.listener.worked(busyMs);
    this.listener.answersRead();
  }

  /** Ends the worker: its calls in flight are lost. */
  exit(how = "worker exited with code 1"): void {
    this.calls.length = 0;
    const code = Number(/code (\d+)/.exec(how)?.[1] ?? NaN);
    this.listener.exited({
      how,
      exitCode: Number.isNaN(code) ? null : code,
      signal: /by (SIG\w+)/.exec(how)?.[1] ?? null,
      stderr: "",
    });
  }
}

/** An engine over fake workers, and the workers it started; `machines`
 * are the hooks of a pool across machines. */
function fakeEngine(
  options: Partial<EngineOptions> = {},
  machines: Pick<
    EngineHost<FakeCall>,
    "mayStart" | "nextStart" | "unservable"
  > = {},
) {
  const workers: FakeWorker[] = [];
  /** Resolves when the first worker starts. */
  const started = Promise.withResolvers<void>();
  const engine = new Engine<FakeCall>({
    ...machines,
    prepare: () => Promise.resolve(),
    start(listener) {
      const worker = new FakeWorker(listener);
      workers.push(worker);
      started.resolve();
      return worker;
    },
    makeCall: (_future, _fn, args) => new FakeCall(args[0]),
    broken: (reason: BreakReason, detail: string) =>
      new Error(`${reason}: ${detail}`),
  }, {
    maxWorkers: 2,
    maxTasksPerChild: Infinity,
    onWorkerDeath: "break",
    ...options,
  });
  const submit = (value: unknown): Future<unknown> => {
    const call = new FakeCall(value);
    engine.submit(call);
    return call.future;
  };
  return { engine, workers, submit, started: started.promise };
}

/** Lets the engine's microtasks and the prepare() promise run. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** `"started"` once `started` resolves, or `otherwise` if it has not in
 * 2 s: what the engine did instead, for a test of a hang. */
async function startedWithin(
  started: Promise<void>,
  otherwise: string,
): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(otherwise), 2000);
  });
  try {
    return await Promise.race([started.then(() => "started"), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Makes every worker ready. */
function ready(workers: FakeWorker[]): void {
  for (const worker of workers) worker.listener.ready();
}

/** Ends every worker the way a closed one does, so the test leaks none. */
function exitAll(workers: FakeWorker[]): void {
  for (const worker of workers) worker.exit("worker exited with code 0");
}

test("Engine starts workers on demand and sends a starting worker one call", async () => {
  const { engine, workers, submit } = fakeEngine();
  const futures = [1, 2, 3, 4, 5].map(submit);
  assert.equal(workers.length, 0); // nothing before the end of the turn
  await nextTurn();
  assert.equal(workers.length, 2);
  assert.deepEqual(workers.map((w) => w.calls.length), [1, 1]);
  assert.ok(futures[0].running() && futures[1].running());
  assert.ok(!futures[2].running());
  assert.deepEqual(engine.stats(), {
    workers: 2,
    idle: 0,
    running: 2,
    queued: 3,
    completed: 0,
    failed: 0,
  });
  ready(workers);
  for (const worker of workers) worker.answer();
  while (workers.some((worker) => worker.calls.length > 0)) {
    for (const worker of workers) worker.answer();
  }
  assert.deepEqual(await Promise.all(futures), [1, 2, 3, 4, 5]);
  const done = engine.shutdown(false);
  assert.ok(workers.every((worker) => worker.closed));
  exitAll(workers);
  await done;
});

/** Runs 200 calls on one worker that answers all it holds in each read,
 * after `beforeRead()`; returns how many it held at each read. */
async function windowSizes(beforeRead = () => {}): Promise<number[]> {
  const { engine, workers, submit } = fakeEngine({ maxWorkers: 1 });
  const futures = Array.from({ length: 200 }, (_, i) => submit(i));
  await nextTurn();
  const [worker] = workers;
  worker.listener.ready();
  const sizes: number[] = [];
  while (worker.calls.length > 0) {
    sizes.push(worker.calls.length);
    beforeRead();
    worker.answer();
  }
  assert.equal((await Promise.all(futures)).length, 200);
  const done = engine.shutdown(false);
  exitAll(workers);
  await done;
  return sizes;
}

test("Engine sends a worker more calls ahead once its answers come back fast", async () => {
  const sizes = await windowSizes();
  assert.equal(sizes[0], 1);
  assert.ok(
    Math.max(...sizes) > 1,
    `the window never grew: ${sizes.join(",")}`,
  );
});

test("Engine sizes a worker's window by the time the worker says it was busy, not by how late the parent read its answers", async () => {
  // A parent that keeps its thread 3 ms (a consumer taking results) before
  // it reads answers the worker was busy on 0.01 ms each.
  const sizes = await windowSizes(() => {
    const until = performance.now() + 3;
    while (performance.now() < until);
  });
  assert.ok(
    Math.max(...sizes) >= 16,
    `the window stayed small: ${sizes.join(",")}`,
  );
});

test("Engine replaces a worker after maxTasksPerChild calls", async () => {
  const { engine, workers, submit } = fakeEngine({
    maxWorkers: 1,
    maxTasksPerChild: 2,
  });
  const futures = [1, 2, 3].map(submit);
  await nextTurn();
  const [first] = workers;
  first.listener.ready();
  first.answer();
  first.answer();
  assert.ok(first.closed, "the worker was not told to exit after 2 calls");
  assert.equal(workers.length, 1); // the new one waits for the old to go
  first.exit("worker exited with code 0");
  assert.equal(workers.length, 2);
  const second = workers[1];
  second.listener.ready();
  second.answer();
  assert.deepEqual(await Promise.all(futures), [1, 2, 3]);
  assert.equal(engine.stats().completed, 3);
  const done = engine.shutdown(false);
  second.exit("worker exited with code 0");
  await done;
});

/** Answers every call of `workers` until none is left. */
function answerAll(workers: FakeWorker[]): void {
  while (workers.some((worker) => worker.calls.length > 0)) {
    for (const worker of workers) worker.answer();
  }
}

/** Runs `count` calls through the engine's workers, answered at once, so
 * that their windows open; the workers are ready when it returns. */
async function warm(
  workers: FakeWorker[],
  submit: (value: unknown) => Future<unknown>,
  count: number,
): Promise<void> {
  const futures = Array.from({ length: count }, (_, i) => submit(i));
  await nextTurn();
  ready(workers);
  answerAll(workers);
  await Promise.all(futures);
}

test('Engine with onWorkerDeath: "replace" fails every call a ready worker held when it dies: any may have started', async () => {
  const { engine, workers, submit } = fakeEngine({
    maxWorkers: 1,
    onWorkerDeath: "replace",
  });
  // Calls come back fast while more wait: the window opens.
  const many = Array.from({ length: 50 }, (_, i) => submit(i));
  await nextTurn();
  workers[0].listener.ready();
  while (workers[0].calls.length < 2) workers[0].answer();
  const held = workers[0].calls.map(([, call]) => call.future);
  workers[0].exit("worker 1 was killed by SIGKILL");
  for (const future of held) {
    const error = await future.exception();
    assert.ok(error instanceof WorkerDiedError);
    assert.match(error.message, /killed by SIGKILL/);
    assert.equal(error.signal, "SIGKILL");
  }
  assert.equal(workers.length, 2, "no replacement was started");
  workers[1].listener.ready();
  answerAll(workers);
  const errors = await Promise.all(many.map((f) => f.exception()));
  const failed = errors.filter((e) => e !== undefined);
  assert.equal(failed.length, held.length, String(failed));
  assert.equal(engine.stats().failed, held.length);
  const done = engine.shutdown(false);
  workers[1].exit("worker exited with code 0");
  await done;
});

test('Engine with onWorkerDeath: "replace" gives another worker the calls of a worker that died before it was ready', async () => {
  const { engine, workers, submit } = fakeEngine({
    maxWorkers: 1,
    onWorkerDeath: "replace",
  });
  const future = submit("first");
  await nextTurn();
  assert.equal(workers[0].calls.length, 1);
  workers[0].exit("worker 1 exited with code 255");
  assert.equal(workers.length, 2);
  assert.equal(workers[1].calls.length, 1, "the call was not sent again");
  workers[1].listener.ready();
  workers[1].answer();
  assert.equal(await future, "first");
  assert.equal(engine.stats().failed, 0);
  const done = engine.shutdown(false);
  workers[1].exit("worker exited with code 0");
  await done;
});

test('Engine with onWorkerDeath: "replace" breaks the pool when 5 workers die within 10 s', async () => {
  const { engine, workers, submit } = fakeEngine({
    maxWorkers: 1,
    onWorkerDeath: "replace",
  });
  const futures = [1, 2, 3].map(submit);
  await nextTurn();
  for (let death = 0; death < 5; death++) {
    workers[death].exit(`worker ${death} exited with code 3`);
  }
  for (const future of futures) {
    assert.match(
      String(await future.exception()),
      /^Error: died: worker 4 exited with code 3; 5 workers died within 10 s/,
    );
  }
  assert.throws(() => engine.assertOpen(), /^Error: died: /);
  assert.equal(engine.stats().failed, 3);
  await engine.shutdown(false);
});

test("Engine gives every worker a call before it sends any ahead", async () => {
  const { engine, workers, submit } = fakeEngine({ maxWorkers: 2 });
  await warm(workers, submit, 400);
  // Short calls opened both windows; now 16 long ones come.
  const long = Array.from({ length: 16 }, (_, i) => submit(i));
  await nextTurn();
  assert.deepEqual(workers.map((worker) => worker.calls.length), [1, 1]);
  answerAll(workers);
  assert.equal((await Promise.all(long)).length, 16);
  const done = engine.shutdown(false);
  exitAll(workers);
  await done;
});

test("Engine sends nothing behind a call of run() with limits, so stopping it runs no call twice", async () => {
  const { engine, workers, submit } = fakeEngine({
    maxWorkers: 1,
    onWorkerDeath: "replace",
  });
  await warm(workers, submit, 400);
  const controller = new AbortController();
  const limited = new FakeCall("limited");
  engine.submit(limited, { signal: controller.signal });
  const plain = submit("plain");
  await nextTurn();
  assert.deepEqual(workers[0].calls.map(([, call]) => call.value), [
    "limited",
  ]);
  controller.abort(new Error("stop"));
  assert.equal(String(await limited.future.exception()), "Error: stop");
  assert.equal(workers[0].killed, "SIGKILL");
  workers[0].exit("worker 1 was killed by SIGKILL");
  // The plain call ran nowhere yet: the replacement runs it, once.
  workers[1].listener.ready();
  assert.deepEqual(workers[1].calls.map(([, call]) => call.value), ["plain"]);
  workers[1].answer();
  assert.equal(await plain, "plain");
  const done = engine.shutdown(false);
  workers[1].exit("worker exited with code 0");
  await done;
});

test("Engine starts every new burst of work at one call per worker", async () => {
  const { engine, workers, submit } = fakeEngine({ maxWorkers: 1 });
  await warm(workers, submit, 400);
  const burst = Array.from({ length: 100 }, (_, i) => submit(i));
  await nextTurn();
  const sizes: number[] = [];
  while (workers[0].calls.length > 0) {
    sizes.push(workers[0].calls.length);
    workers[0].answer();
  }
  // From one call, at most doubling per round trip.
  assert.equal(sizes[0], 1, String(sizes));
  assert.ok(sizes.every((size, i) => i === 0 || size <= 2 * sizes[i - 1]));
  assert.equal((await Promise.all(burst)).length, 100);
  const done = engine.shutdown(false);
  exitAll(workers);
  await done;
});

test("Engine asks whether a worker may start, and when, at one time: a rest that ends between two readings of the clock still starts a worker", async () => {
  // A machine rests until `restUntil`. Told no time, the host reads a clock
  // whose first reading falls just before the end and every later one just
  // after, as a clock read twice across that moment does.
  const restUntil = performance.now() + 5;
  let readings = 0;
  const at = (now?: number) =>
    now ?? (readings++ === 0 ? restUntil - 0.001 : restUntil + 0.001);
  const { engine, workers, submit, started } = fakeEngine({ maxWorkers: 1 }, {
    mayStart: (now) => at(now) >= restUntil,
    nextStart: (now) => at(now) < restUntil ? restUntil : undefined,
    unservable: () => undefined,
  });
  const future = submit("after the rest");
  assert.equal(
    await startedWithin(started, "no worker started, no retry set"),
    "started",
  );
  ready(workers);
  workers[0].answer();
  assert.equal(await future, "after the rest");
  const done = engine.shutdown(false);
  exitAll(workers);
  await done;
});

test("Engine starts a worker when the first rest ends, though it already waited for a later one", async () => {
  // The only machine that may take a worker rests long; then another's
  // short rest begins, which ends first.
  let readyAt = performance.now() + 60_000;
  const { engine, workers, submit, started } = fakeEngine({ maxWorkers: 1 }, {
    mayStart: (now) => now >= readyAt,
    nextStart: () => readyAt,
    unservable: () => undefined,
  });
  const first = submit(1);
  await nextTurn(); // the engine waits for the long rest
  readyAt = performance.now() + 5;
  const second = submit(2); // and pumps again
  assert.equal(
    await startedWithin(started, "waited for the long rest"),
    "started",
  );
  ready(workers);
  while (workers[0].calls.length > 0) workers[0].answer();
  assert.deepEqual(await Promise.all([first, second]), [1, 2]);
  const done = engine.shutdown(false);
  exitAll(workers);
  await done;
});

test('Engine with onWorkerDeath: "break" fails every call when a worker dies', async () => {
  const { engine, workers, submit } = fakeEngine({ maxWorkers: 1 });
  const futures = [1, 2, 3].map(submit);
  await nextTurn();
  workers[0].exit("worker 7 exited with code 9");
  for (const future of futures) {
    assert.match(String(await future.exception()), /died: worker 7/);
  }
  assert.deepEqual(engine.stats(), {
    workers: 0,
    idle: 0,
    running: 0,
    queued: 0,
    completed: 0,
    failed: 3,
  });
  await engine.shutdown(false);
});

test("Engine.stats() counts idle workers, queued calls and both outcomes", async () => {
  const { engine, workers, submit } = fakeEngine({ maxWorkers: 1 });
  const ok = submit("ok");
  const cancelled = submit("cancelled");
  cancelled.cancel();
  await nextTurn();
  const [worker] = workers;
  worker.listener.ready();
  assert.equal(engine.stats().queued, 0); // a cancelled call is not counted
  worker.answer();
  await ok;
  const bad = new FakeCall("bad");
  engine.submit(bad);
  await nextTurn();
  const [[id]] = worker.calls.splice(0, 1);
  worker.listener.answered(id, false, new Error("bad"));
  worker.listener.answersRead();
  await bad.future.exception();
  assert.deepEqual(engine.stats(), {
    workers: 1,
    idle: 1,
    running: 0,
    queued: 0,
    completed: 1,
    failed: 1,
  });
  const done = engine.shutdown(false);
  worker.exit("worker exited with code 0");
  await done;
});

test("Engine breaks the pool when a worker answers a call it was not sent", async () => {
  const { engine, workers, submit } = fakeEngine({ maxWorkers: 1 });
  const future = submit(1);
  await nextTurn();
  workers[0].listener.answered(999, true, 1);
  assert.match(
    String(await future.exception()),
    /protocol: a worker answered call 999, which it was not running/,
  );
  assert.equal(workers[0].killed, "SIGKILL");
  workers[0].exit();
  await engine.shutdown(false);
});
