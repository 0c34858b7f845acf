/**
 * The types of `wait()`'s constants: each keeps its literal type where a
 * plain string constant would widen to `string` (in an array, in an object
 * literal), so that a loop over the three, or options built beforehand,
 * type-check. The calls run and their results are asserted; the
 * `@ts-expect-error` lines are checked by `deno check` (a directive with no
 * error under it fails it).
 *
 * @module
 */
import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import {
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  wait,
} from "../mod.ts";

test("wait() takes each constant of an array of the three", async () => {
  const notDone: Record<string, number> = {};
  for (const returnWhen of [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED]) {
    const failed = new Future<number>();
    failed.setException(new Error("x"));
    const later = new Future<number>();
    const waiting = wait([failed, later], { returnWhen });
    later.setResult(1);
    notDone[returnWhen] = (await waiting).notDone.size;
  }
  assert.deepEqual(notDone, {
    FIRST_COMPLETED: 1,
    FIRST_EXCEPTION: 1,
    ALL_COMPLETED: 0,
  });
});

test("wait() takes options built before the call", async () => {
  const options = { returnWhen: FIRST_COMPLETED, timeout: 5_000 };
  const first = new Future<string>();
  first.setResult("a");
  const { done, notDone } = await wait([first, new Future<string>()], options);
  assert.deepEqual([...done], [first]);
  assert.equal(notDone.size, 1);
});

/** Never called: each line must fail to type-check. */
export function rejectedByTheTypes(futures: Future<number>[]): void {
  // @ts-expect-error a string that is not one of the three
  void wait(futures, { returnWhen: "FIRST_COMPLETE" });
  const plain: string = FIRST_COMPLETED;
  // @ts-expect-error any string, even a right one
  void wait(futures, { returnWhen: plain });
}
