import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { type FileSink, OrderedSink } from "../workers/_bun_sink.ts";

/** A sink that records what it is given, each flush a pending promise
 * until `release()` fulfils it. */
class FakeSink implements FileSink {
  readonly written: Uint8Array[] = [];
  flushes = 0;
  ended = false;
  failing = false;
  #pending: (() => void)[] = [];

  write(chunk: string | ArrayBufferView): number {
    if (this.failing) throw new Error("EPIPE");
    this.written.push(chunk as Uint8Array);
    return (chunk as Uint8Array).length;
  }

  flush(): Promise<number> {
    this.flushes++;
    return new Promise((resolve) => this.#pending.push(() => resolve(0)));
  }

  end(): number {
    this.ended = true;
    return 0;
  }

  release(): void {
    for (const resolve of this.#pending.splice(0)) resolve();
  }

  bytes(): number[] {
    return this.written.flatMap((chunk) => [...chunk]);
  }
}

/** Lets the sink's microtasks and awaited flushes run. */
async function settle(sink: FakeSink): Promise<void> {
  for (let i = 0; i < 10; i++) {
    sink.release();
    await Promise.resolve();
  }
}

test("OrderedSink writes small chunks at once and flushes once per turn", async () => {
  const fake = new FakeSink();
  const sink = new OrderedSink(fake);
  sink.write(new Uint8Array([1]));
  sink.write("é");
  assert.deepEqual(fake.bytes(), [1, 0xc3, 0xa9]);
  assert.equal(fake.flushes, 0);
  await settle(fake);
  assert.equal(fake.flushes, 1);
});

test("OrderedSink writes a large chunk in slices, each after a flush, keeping order", async () => {
  const fake = new FakeSink();
  const sink = new OrderedSink(fake);
  const large = new Uint8Array(2.5 * 1024 * 1024).fill(2);
  sink.write(new Uint8Array([1]));
  sink.write(large);
  sink.write(new Uint8Array([3]));
  assert.equal(fake.written.length, 2); // the small one, then one slice
  const ended = sink.end();
  for (let i = 0; i < 20 && !fake.ended; i++) await settle(fake);
  await ended;
  assert.ok(fake.ended);
  assert.deepEqual(
    fake.written.map((chunk) => chunk.length),
    [1, 1024 * 1024, 1024 * 1024, 0.5 * 1024 * 1024, 1],
  );
  assert.equal(fake.written[1].buffer, large.buffer); // a view, not a copy
  assert.equal(fake.written.at(-1)![0], 3);
});

test("OrderedSink drops what comes after a failed write, and never throws", async () => {
  const fake = new FakeSink();
  const sink = new OrderedSink(fake);
  fake.failing = true;
  sink.write(new Uint8Array([1]));
  assert.ok(sink.broken);
  fake.failing = false;
  sink.write(new Uint8Array([2]));
  await sink.end();
  assert.deepEqual(fake.written, []);
  assert.equal(fake.ended, false);
});
