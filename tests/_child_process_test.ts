import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { StderrTail } from "../executor/_child_process.ts";

const encoder = new TextEncoder();

test("StderrTail.text() keeps the last 20 lines within 8 KiB", () => {
  const tail = new StderrTail();
  for (let i = 1; i <= 100; i++) tail.push(encoder.encode(`line ${i}\n`));
  assert.equal(tail.text().split("\n")[0], "line 81");
  tail.push(encoder.encode(`${"x".repeat(10_000)}\nend\n`));
  assert.equal(tail.text(), "end");
  const long = new StderrTail();
  long.push(encoder.encode("y".repeat(20_000)));
  assert.equal(long.text(), "y".repeat(8 * 1024));
});
