import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import {
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  wait,
} from "../mod.ts";

function finished<T>(value: T): Future<T> {
  const future = new Future<T>();
  future.setResult(value);
  return future;
}

function failedWith(error: unknown): Future<never> {
  const future = new Future<never>();
  future.setException(error);
  return future;
}

test("wait() constants are CPython's strings", () => {
  assert.equal(FIRST_COMPLETED, "FIRST_COMPLETED");
  assert.equal(FIRST_EXCEPTION, "FIRST_EXCEPTION");
  assert.equal(ALL_COMPLETED, "ALL_COMPLETED");
});

test("wait() returns at once when every future is done", async () => {
  const a = finished(1);
  const b = failedWith(new Error("x"));
  const { done, notDone } = await wait([a, b]);
  assert.deepEqual([...done], [a, b]);
  assert.equal(notDone.size, 0);
});

test("wait() counts a future given twice once", async () => {
  const a = finished(1);
  const { done, notDone } = await wait([a, a, a]);
  assert.equal(done.size, 1);
  assert.equal(notDone.size, 0);
});

test("wait() with ALL_COMPLETED waits for the last future", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  const waiting = wait([a, b]);
  a.setResult(1);
  queueMicrotask(() => b.setResult(2));
  const { done, notDone } = await waiting;
  assert.deepEqual(new Set(done), new Set([a, b]));
  assert.equal(notDone.size, 0);
});

test("wait() with FIRST_COMPLETED returns once one future is done", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  const waiting = wait([a, b], { returnWhen: FIRST_COMPLETED });
  b.setResult(2);
  const { done, notDone } = await waiting;
  assert.deepEqual([...done], [b]);
  assert.deepEqual([...notDone], [a]);
});

test("wait() with FIRST_COMPLETED returns at once if one is already done", async () => {
  const a = new Future<number>();
  const b = finished(2);
  const { done, notDone } = await wait([a, b], {
    returnWhen: FIRST_COMPLETED,
  });
  assert.deepEqual([...done], [b]);
  assert.deepEqual([...notDone], [a]);
});

test("wait() counts a cancelled future as done at once", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  const waiting = wait([a, b], { returnWhen: FIRST_COMPLETED });
  a.cancel();
  const { done } = await waiting;
  assert.deepEqual([...done], [a]);
});

test("wait() with FIRST_EXCEPTION returns at the first failure", async () => {
  const ok = new Future<number>();
  const bad = new Future<number>();
  const slow = new Future<number>();
  const waiting = wait([ok, bad, slow], { returnWhen: FIRST_EXCEPTION });
  ok.setResult(1);
  bad.setException(0); // falsy, still an exception
  const { done, notDone } = await waiting;
  assert.deepEqual(new Set(done), new Set([ok, bad]));
  assert.deepEqual([...notDone], [slow]);
});

test("wait() with FIRST_EXCEPTION returns at once when a failure is already done", async () => {
  const bad = failedWith(undefined);
  const slow = new Future<number>();
  const { done, notDone } = await wait([bad, slow], {
    returnWhen: FIRST_EXCEPTION,
  });
  assert.deepEqual([...done], [bad]);
  assert.deepEqual([...notDone], [slow]);
});

test("wait() with FIRST_EXCEPTION and no failure behaves as ALL_COMPLETED", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  const waiting = wait([a, b], { returnWhen: FIRST_EXCEPTION });
  a.setResult(1);
  b.cancel(); // cancelled is not an exception
  const { done, notDone } = await waiting;
  assert.equal(done.size, 2);
  assert.equal(notDone.size, 0);
});

test("wait() with a timeout returns what is done without rejecting", async () => {
  const a = finished(1);
  const b = new Future<number>();
  const { done, notDone } = await wait([a, b], { timeout: 5 });
  assert.deepEqual([...done], [a]);
  assert.deepEqual([...notDone], [b]);
});

test("wait() with timeout 0 does not wait", async () => {
  const b = new Future<number>();
  const { done, notDone } = await wait([b], { timeout: 0 });
  assert.equal(done.size, 0);
  assert.deepEqual([...notDone], [b]);
});

test("wait() clears its timer and callbacks when futures finish first", async () => {
  const a = new Future<number>();
  const waiting = wait([a], { timeout: 60_000 });
  a.setResult(1);
  // Deno's op sanitizer fails this test if the timer is left running.
  const { done } = await waiting;
  assert.equal(done.size, 1);
});

test("wait() rejects a negative or NaN timeout with RangeError", async () => {
  await assert.rejects(wait([], { timeout: -1 }), RangeError);
  await assert.rejects(wait([], { timeout: NaN }), RangeError);
});

test("wait() rejects an unknown returnWhen with RangeError", async () => {
  await assert.rejects(
    wait([], { returnWhen: "SOMETIMES" as typeof ALL_COMPLETED }),
    (e) =>
      e instanceof RangeError && /Invalid return condition/.test(e.message),
  );
});

test("wait() on no futures returns two empty sets", async () => {
  const { done, notDone } = await wait([]);
  assert.equal(done.size + notDone.size, 0);
});

test("wait({ signal }) rejects with the signal's reason and leaves the futures alone", async () => {
  const pending = new Future<number>();
  const controller = new AbortController();
  const waiting = wait([pending, finished(1)], { signal: controller.signal });
  const reason = new Error("stop waiting");
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);
  assert.equal(pending.state, "PENDING");
});

test("wait({ signal }) rejects at once for a signal aborted already, unless the condition holds", async () => {
  const reason = new Error("aborted before");
  const signal = AbortSignal.abort(reason);
  await assert.rejects(
    wait([new Future()], { signal }),
    (error) => error === reason,
  );
  const { done } = await wait([finished(1)], { signal });
  assert.equal(done.size, 1);
});

test("wait({ signal }) rejects a signal that is not an AbortSignal", async () => {
  await assert.rejects(
    wait([new Future()], { signal: {} as AbortSignal }),
    /signal must be an AbortSignal/,
  );
});
