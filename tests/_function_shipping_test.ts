import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { FunctionShipping, refFor } from "../executor/_function_shipping.ts";

test("FunctionShipping.ship() gives lambdas of the same text one source key", () => {
  const shipping = new FunctionShipping();
  const keys = new Set<number>();
  for (let i = 0; i < 100; i++) {
    const shipped = shipping.ship((x: number) => x + 2);
    assert.ok("k" in shipped);
    keys.add(shipped.k);
  }
  assert.equal(keys.size, 1);
});

test("FunctionShipping.ship() gives functions of different text different keys", () => {
  const shipping = new FunctionShipping();
  const a = shipping.ship((x: number) => x + 1);
  const b = shipping.ship((x: number) => x + 2);
  assert.ok("k" in a && "k" in b);
  assert.notEqual(a.k, b.k);
});

test("FunctionShipping.ship() refuses a bound function with DataCloneError", () => {
  const shipping = new FunctionShipping();
  const bound = ((x: number) => x).bind(null);
  assert.throws(() => shipping.ship(bound), { name: "DataCloneError" });
});

test("refFor() sends a source only to a worker that has not had it", () => {
  const shipping = new FunctionShipping();
  const shipped = shipping.ship((x: number) => x * 3);
  assert.ok("k" in shipped);
  assert.deepEqual(refFor(shipped, new Set()), shipped);
  assert.deepEqual(refFor(shipped, new Set([shipped.k])), { k: shipped.k });
});
