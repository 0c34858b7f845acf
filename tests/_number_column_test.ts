import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { movePacked, packNumbers } from "../workers/_number_column.ts";

test("packNumbers() makes a column of numbers one Float64Array, with the same numbers", () => {
  const column = [0, -0, NaN, -Infinity, 0.1, 2 ** 53];
  const packed = packNumbers(column);
  assert.ok(packed instanceof Float64Array);
  assert.equal(packed.length, column.length);
  column.forEach((value, i) => assert.ok(Object.is(packed[i], value)));
});

test("packNumbers() leaves a column with anything but numbers as it is", () => {
  const holey: number[] = [1];
  holey[2] = 3;
  for (const column of [[1, "2"], [1, 2n], [1, null], holey]) {
    assert.equal(packNumbers(column), column);
  }
});

test("movePacked() adds the buffer of a packed column only", () => {
  const moved: ArrayBuffer[] = [];
  const packed = packNumbers([1, 2]) as Float64Array;
  assert.equal(movePacked(packed, moved), true);
  assert.deepEqual(moved, [packed.buffer]);
  assert.equal(movePacked([1, "2"], moved), false);
  assert.equal(movePacked(packNumbers([1, "2"]), moved), false);
  assert.deepEqual(moved, [packed.buffer]);
});
