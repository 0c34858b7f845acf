import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import {
  CancelledError,
  Future,
  InvalidStateError,
  TimeoutError,
} from "../mod.ts";

/** Runs `body` with `console.error` captured, and restores it. */
async function capturingErrors(
  body: () => void | Promise<void>,
): Promise<unknown[][]> {
  const lines: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args);
  try {
    await body();
  } finally {
    console.error = original;
  }
  return lines;
}

test("Future starts PENDING and not done", () => {
  const future = new Future<number>();
  assert.equal(future.state, "PENDING");
  assert.equal(future.done(), false);
  assert.equal(future.running(), false);
  assert.equal(future.cancelled(), false);
});

test("Future is a promise that await unwraps to its result", async () => {
  const future = new Future<number>();
  assert.ok(future instanceof Promise);
  queueMicrotask(() => future.setResult(5));
  assert.equal(await future, 5);
});

test("Future.then(), catch() and finally() return plain promises", async () => {
  const future = new Future<number>();
  future.setResult(2);
  const doubled = future.then((x) => x * 2);
  assert.equal(doubled instanceof Future, false);
  assert.equal(await doubled, 4);
  const failed = new Future<number>();
  failed.setException(new Error("boom"));
  assert.equal(await failed.catch(() => -1), -1);
  let ran = false;
  await future.finally(() => ran = true);
  assert.ok(ran);
});

test("Future.cancel() cancels a pending future and runs its callbacks", async () => {
  const future = new Future<number>();
  const seen: string[] = [];
  future.addDoneCallback((f) => seen.push(f.state));
  assert.equal(future.cancel(), true);
  assert.equal(future.state, "CANCELLED");
  assert.ok(future.cancelled() && future.done());
  assert.deepEqual(seen, ["CANCELLED"]);
  await assert.rejects(future.result(), CancelledError);
  await assert.rejects(future.exception(), CancelledError);
  await assert.rejects(async () => await future, CancelledError);
});

test("Future.cancel() returns true again once cancelled", () => {
  const future = new Future();
  future.cancel();
  assert.equal(future.cancel(), true);
});

test("Future.cancel() returns false once running", () => {
  const future = new Future();
  assert.equal(future.setRunningOrNotifyCancel(), true);
  assert.equal(future.cancel(), false);
  assert.equal(future.state, "RUNNING");
  assert.ok(future.running());
});

test("Future.cancel() returns false once finished", () => {
  const future = new Future<number>();
  future.setResult(1);
  assert.equal(future.cancel(), false);
  assert.equal(future.state, "FINISHED");
});

test("Future.setRunningOrNotifyCancel() returns false when cancelled", () => {
  const future = new Future();
  future.cancel();
  assert.equal(future.setRunningOrNotifyCancel(), false);
  assert.equal(future.state, "CANCELLED");
});

test("Future.setRunningOrNotifyCancel() throws InvalidStateError when running or finished", () => {
  const running = new Future();
  running.setRunningOrNotifyCancel();
  assert.throws(
    () => running.setRunningOrNotifyCancel(),
    (e) => e instanceof InvalidStateError && e.message.startsWith("RUNNING: "),
  );
  const finished = new Future<number>();
  finished.setResult(1);
  assert.throws(
    () => finished.setRunningOrNotifyCancel(),
    (e) => e instanceof InvalidStateError && e.message.startsWith("FINISHED: "),
  );
});

test("Future.setResult() finishes a pending or running future", async () => {
  const pending = new Future<string>();
  pending.setResult("a");
  assert.equal(pending.state, "FINISHED");
  assert.equal(await pending.result(), "a");
  const running = new Future<string>();
  running.setRunningOrNotifyCancel();
  running.setResult("b");
  assert.equal(await running.result(), "b");
  assert.equal(await running.exception(), undefined);
});

test("Future.setResult() twice throws InvalidStateError starting with the state", () => {
  const future = new Future<number>();
  future.setResult(1);
  assert.throws(
    () => future.setResult(2),
    (e) =>
      e instanceof InvalidStateError && e.name === "InvalidStateError" &&
      e.message.startsWith("FINISHED: "),
  );
  assert.throws(() => future.setException(new Error()), InvalidStateError);
});

test("Future.setResult() on a cancelled future throws InvalidStateError", () => {
  const future = new Future<number>();
  future.cancel();
  assert.throws(
    () => future.setResult(1),
    (e) =>
      e instanceof InvalidStateError && e.message.startsWith("CANCELLED: "),
  );
});

test("Future.setException() rejects result() and resolves exception()", async () => {
  const future = new Future<number>();
  const error = new RangeError("bad");
  future.setException(error);
  await assert.rejects(future.result(), (e) => e === error);
  assert.equal(await future.exception(), error);
});

test("Future.setException() treats falsy thrown values as exceptions", async () => {
  for (const value of [undefined, null, 0, "", false]) {
    const future = new Future<number>();
    future.setException(value);
    assert.equal(future.state, "FINISHED");
    let caught = false;
    try {
      await future.result();
    } catch (e) {
      caught = true;
      assert.equal(e, value);
    }
    assert.ok(caught, `result() must reject for ${String(value)}`);
    assert.throws(() => future.setResult(1), InvalidStateError);
  }
});

test("Future.result() with a timeout rejects with TimeoutError and leaves the future alone", async () => {
  const future = new Future<number>();
  await assert.rejects(future.result(1), TimeoutError);
  await assert.rejects(future.result(0), TimeoutError);
  assert.equal(future.state, "PENDING");
  future.setResult(3);
  assert.equal(await future.result(0), 3);
});

test("Future.result() with a timeout resolves when done in time and clears its timer", async () => {
  const future = new Future<number>();
  const result = future.result(60_000);
  future.setResult(9);
  // Deno's op sanitizer fails this test if the 60 s timer is left running.
  assert.equal(await result, 9);
});

test("Future.exception() with a timeout rejects with TimeoutError", async () => {
  const future = new Future<number>();
  await assert.rejects(future.exception(1), TimeoutError);
  const later = future.exception(60_000);
  future.setException("late");
  assert.equal(await later, "late");
});

test("Future.result() rejects a negative or NaN timeout with RangeError", async () => {
  const future = new Future<number>();
  await assert.rejects(future.result(-1), RangeError);
  await assert.rejects(future.result(NaN), RangeError);
  await assert.rejects(future.exception(-5), RangeError);
});

test("Future.addDoneCallback() calls back in the order added", () => {
  const future = new Future<number>();
  const order: number[] = [];
  future.addDoneCallback(() => order.push(1));
  future.addDoneCallback(() => order.push(2));
  future.addDoneCallback(() => order.push(3));
  assert.deepEqual(order, []);
  future.setResult(0);
  assert.deepEqual(order, [1, 2, 3]);
});

test("Future.addDoneCallback() calls at once when already done", () => {
  const future = new Future<number>();
  future.setResult(1);
  let seen: Future<number> | undefined;
  future.addDoneCallback((f) => seen = f);
  assert.equal(seen, future);
});

test("Future.addDoneCallback() logs a throwing callback and still runs the rest", async () => {
  const future = new Future<number>();
  const order: number[] = [];
  const logged = await capturingErrors(() => {
    future.addDoneCallback(() => {
      throw new Error("callback failed");
    });
    future.addDoneCallback(() => order.push(2));
    future.setResult(1);
  });
  assert.deepEqual(order, [2]);
  assert.equal(logged.length, 1);
  assert.ok(
    logged[0].some((part) =>
      part instanceof Error && part.message === "callback failed"
    ),
  );
});

test("Future.addDoneCallback() logs a throwing callback on an already done future", async () => {
  const future = new Future<number>();
  future.cancel();
  const logged = await capturingErrors(() =>
    future.addDoneCallback(() => {
      throw 0;
    })
  );
  assert.equal(logged.length, 1);
});

test("Future.setException() on a future nobody observes raises no unhandled rejection", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (event: Event) => {
    unhandled.push(event);
    event.preventDefault();
  };
  const onProcessUnhandled = (reason: unknown) => unhandled.push(reason);
  globalThis.addEventListener?.("unhandledrejection", onUnhandled);
  const process = (globalThis as { process?: NodeProcessLike }).process;
  process?.on("unhandledRejection", onProcessUnhandled);
  try {
    new Future().setException(new Error("nobody looks"));
    new Future().cancel();
    // Unhandled rejections are reported after the microtask queue drains.
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.deepEqual(unhandled, []);
  } finally {
    globalThis.removeEventListener?.("unhandledrejection", onUnhandled);
    process?.off("unhandledRejection", onProcessUnhandled);
  }
});

interface NodeProcessLike {
  on(event: string, fn: (reason: unknown) => void): void;
  off(event: string, fn: (reason: unknown) => void): void;
}

test("Future stays assignable to Future<unknown> and PromiseLike", async () => {
  const future: Future<unknown> = new Future<number>();
  const like: PromiseLike<unknown> = future;
  (future as Future<number>).setResult(1);
  assert.equal(await like, 1);
});
