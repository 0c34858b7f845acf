/**
 * The iterator behind `map()` and the inbox of a worker, on their own:
 * how they share the thread with the pool's own work.
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { Future } from "../future/future.ts";
import { type BatchValues, MapIterator } from "../executor/_map.ts";
import { Inbox } from "../workers/_dispatch.ts";

/** Keeps the thread for `ms`, as work does (not a wait). */
function work(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

test("map() lets the event loop run while its consumer takes results that are all in", async () => {
  // Every batch is done before it is reached: without a turn given, the
  // whole map would be served in microtasks, and no answer would be read.
  const source = {
    assertOpen() {},
    submit: () => {
      throw new Error("batches only");
    },
    submitBatch(columns: unknown[][]): Future<BatchValues<unknown>> {
      const future = new Future<BatchValues<unknown>>();
      future.setResult({ values: columns[0], errors: undefined });
      return future;
    },
  };
  const items = Array.from({ length: 40 }, (_, i) => i);
  const results = new MapIterator(source, [items], { chunksize: 2 });
  let loopRan = false;
  setImmediate(() => loopRan = true);
  for await (const _ of results) work(0.1);
  assert.ok(loopRan, "the event loop never ran during 4 ms of results");
});

test("a worker's inbox sends the answers ready once they waited 0.5 ms, while more messages wait", () => {
  const flushes: number[] = [];
  let answered = 0;
  const inbox = new Inbox<number>(() => {
    work(0.2);
    answered++;
    return undefined;
  }, () => flushes.push(answered));
  inbox.receive(Array.from({ length: 20 }, (_, i) => i));
  assert.equal(flushes.at(-1), 20);
  assert.ok(flushes.length >= 4, `flushed after ${flushes.join(", ")}`);
});
