import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import {
  asCompleted,
  type CompletedFuture,
  Future,
  TimeoutError,
} from "../mod.ts";

async function collect<T>(
  iterator: AsyncIterable<CompletedFuture<T>>,
): Promise<CompletedFuture<T>[]> {
  const seen: CompletedFuture<T>[] = [];
  for await (const future of iterator) seen.push(future);
  return seen;
}

test("asCompleted() yields futures already done first, in input order", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  const c = new Future<number>();
  c.setResult(3);
  a.setResult(1);
  const iterator = asCompleted([a, b, c]);
  queueMicrotask(() => b.setResult(2));
  const seen = await collect(iterator);
  assert.deepEqual(seen, [a, c, b]);
});

test("asCompleted() yields in completion order", async () => {
  const futures = [
    new Future<string>(),
    new Future<string>(),
    new Future<string>(),
  ];
  const iterator = asCompleted(futures);
  const seen: CompletedFuture<string>[] = [];
  const reading = (async () => {
    for await (const future of iterator) seen.push(future);
  })();
  futures[2].setResult("c");
  futures[0].setException(new Error("a"));
  futures[1].cancel();
  await reading;
  assert.deepEqual(seen, [futures[2], futures[0], futures[1]]);
});

test("asCompleted() yields the Future objects themselves, not results", async () => {
  const future = new Future<number>();
  future.setResult(7);
  for await (const done of asCompleted([future])) {
    assert.equal(done, future);
    assert.equal(await done.result(), 7);
  }
});

test("asCompleted() yields a future given twice once", async () => {
  const a = new Future<number>();
  a.setResult(1);
  assert.equal((await collect(asCompleted([a, a]))).length, 1);
});

test("asCompleted() throws TimeoutError naming the unfinished count", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  const c = new Future<number>();
  a.setResult(1);
  const iterator = asCompleted([a, b, c], { timeout: 5 });
  assert.equal((await iterator.next()).value, a);
  await assert.rejects(
    iterator.next(),
    (e) =>
      e instanceof TimeoutError && e.message === "2 (of 3) futures unfinished",
  );
  assert.equal((await iterator.next()).done, true);
});

test("asCompleted() counts the timeout from the call", async () => {
  const a = new Future<number>();
  const iterator = asCompleted([a], { timeout: 1 });
  await new Promise((resolve) => setTimeout(resolve, 5));
  await assert.rejects(iterator.next(), TimeoutError);
});

test("asCompleted() still yields futures done before the timeout", async () => {
  const a = new Future<number>();
  a.setResult(1);
  const iterator = asCompleted([a], { timeout: 0 });
  assert.equal((await iterator.next()).value, a);
  assert.equal((await iterator.next()).done, true);
});

test("asCompleted() throws RangeError at the call for a negative timeout", () => {
  assert.throws(() => asCompleted([], { timeout: -1 }), RangeError);
  assert.throws(() => asCompleted([], { timeout: NaN }), RangeError);
});

test("asCompleted() leaves the futures alone when the loop breaks early", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  a.setResult(1);
  for await (const _ of asCompleted([a, b], { timeout: 60_000 })) break;
  // The timer is cleared (the op sanitizer checks) and nothing is cancelled.
  assert.equal(b.state, "PENDING");
  b.setResult(2);
});

test("asCompleted() return() ends a pending next()", async () => {
  const a = new Future<number>();
  const iterator = asCompleted([a]);
  const pending = iterator.next();
  await iterator.return!();
  assert.deepEqual(await pending, { done: true, value: undefined });
  assert.equal(a.state, "PENDING");
});

test("asCompleted() on no futures ends at once", async () => {
  assert.deepEqual(await collect(asCompleted([])), []);
});

test("asCompleted() is not an async generator: next() resolves to the future, not its result", async () => {
  const a = new Future<number>();
  a.setException(new Error("stays inside the future"));
  const step = await asCompleted([a]).next();
  assert.equal(step.value, a);
});

test("asCompleted({ signal }) throws the reason from a pending step", async () => {
  const done = new Future<number>();
  done.setResult(1);
  const pending = new Future<number>();
  const controller = new AbortController();
  const reason = new Error("stop");
  const seen: unknown[] = [];
  const error = await (async () => {
    try {
      for await (
        const future of asCompleted([done, pending], {
          signal: controller.signal,
        })
      ) {
        seen.push(future);
        queueMicrotask(() => controller.abort(reason));
      }
    } catch (error) {
      return error;
    }
    return undefined;
  })();
  assert.equal(error, reason);
  assert.deepEqual(seen, [done]);
  assert.equal(pending.state, "PENDING");
});

test("asCompleted({ signal }) throws the reason at the next step when it aborted in between", async () => {
  const a = new Future<number>();
  a.setResult(1);
  const b = new Future<number>();
  b.setResult(2);
  const controller = new AbortController();
  const iterator = asCompleted([a, b], { signal: controller.signal });
  assert.equal((await iterator.next()).value, a);
  const reason = new Error("between steps");
  controller.abort(reason);
  await assert.rejects(iterator.next(), (error) => error === reason);
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});

test("asCompleted({ signal }) rejects a signal that is not an AbortSignal, at the call", () => {
  assert.throws(
    () => asCompleted([], { signal: "no" as unknown as AbortSignal }),
    /signal must be an AbortSignal/,
  );
});
