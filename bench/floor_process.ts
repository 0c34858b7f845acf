/**
 * The floors of W2, W4 and W5 (the README's Benchmarks) on the current runtime: bare
 * children (`_floor_child.ts`) speaking length-prefixed JSON over stdio,
 * with no futures, no codec and no error handling. These are the
 * figures the process pool must approach.
 *
 * - W2: 20,000 calls `x + 2` over 2 children, with 1 and with 16 calls in
 *   flight per child; the parent answers every reply of a chunk with one
 *   write.
 * - W4: from spawn to the first reply of a fresh child.
 * - W5: one round trip to an idle child, p50 and p99.
 * - W6: 64 MiB written to a bare child that writes every chunk back
 *   through the worker's stdio adapters, until all of it came back: the
 *   pipe's own round trip.
 *
 * Runs under Deno, Bun and Node; prints `name: value unit` lines, the
 * runtime's name in every figure name. `BENCH_REPS` (default 3) repeats each
 * figure.
 *
 * @module
 */
import process from "node:process";
import { requireRuntime } from "../executor/_runtime.ts";
import { Child, spawnChild } from "./_floor_child.ts";

const CALLS = 20_000;
const CHILDREN = 2;
const COLD_STARTS = 10;
const ROUND_TRIPS = 2_000;
const BULK_BYTES = 64 * 1024 * 1024;
/** A worker that writes back every chunk it reads, unframed. */
const ECHO = new URL("../tests/fixtures/echo_worker.ts", import.meta.url);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const runtime = requireRuntime("bench/floor_process.ts");

/** W2: round trips per second with `depth` calls in flight per child. */
async function throughput(depth: number): Promise<number> {
  const children = Array.from({ length: CHILDREN }, () => new Child());
  await Promise.all(children.map((child) => child.ping()));
  let sent = 0;
  let received = 0;
  let sum = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    for (const child of children) {
      child.onReply = (reply) => {
        sum += reply.v;
        if (++received === CALLS) resolve();
        else if (sent < CALLS) child.send(sent, sent++);
      };
      for (let i = 0; i < depth && sent < CALLS; i++) child.send(sent, sent++);
      child.flush();
    }
  });
  const elapsed = performance.now() - start;
  await Promise.all(children.map((child) => child.close()));
  if (sum !== (CALLS * (CALLS - 1)) / 2 + 2 * CALLS) {
    throw new Error(`wrong sum ${sum}`);
  }
  return CALLS / (elapsed / 1000);
}

/** W4: milliseconds from spawn to the first reply, median of fresh children. */
async function coldStart(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const start = performance.now();
    const child = new Child();
    await child.ping();
    times.push(performance.now() - start);
    await child.close();
  }
  return percentile(times, 0.5);
}

/** W5: microseconds per round trip to an idle child, p50 and p99. */
async function latency(): Promise<[number, number]> {
  const child = new Child();
  for (let i = 0; i < 100; i++) await child.ping();
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const start = performance.now();
    await child.ping();
    times.push((performance.now() - start) * 1000);
  }
  await child.close();
  return [percentile(times, 0.5), percentile(times, 0.99)];
}

/** W6: milliseconds for 64 MiB to reach an echoing child and come back. */
async function bulkRoundTrip(): Promise<number> {
  const bytes = new Uint8Array(BULK_BYTES).map((_, i) => i);
  const back = new Uint8Array(BULK_BYTES);
  let received = 0;
  const { promise: returned, resolve } = Promise.withResolvers<void>();
  const { promise: exited, resolve: exit } = Promise.withResolvers<unknown>();
  const child = spawnChild(ECHO, (chunk) => {
    back.set(chunk, received);
    received += chunk.length;
    if (received === BULK_BYTES) resolve();
  }, exit);
  const start = performance.now();
  child.write(bytes);
  await returned;
  const elapsed = performance.now() - start;
  child.closeStdin();
  await exited;
  if (back[BULK_BYTES - 1] !== bytes[BULK_BYTES - 1]) {
    throw new Error("the echo is not the bytes sent");
  }
  return elapsed;
}

function percentile(values: number[], rank: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * rank))];
}

await throughput(16); // warm-up
for (let rep = 0; rep < REPS; rep++) {
  for (const depth of [1, 16]) {
    const rate = Math.round(await throughput(depth));
    console.log(
      `w2-floor-${depth}-in-flight-${runtime}: ${rate} round-trips/s`,
    );
  }
  console.log(
    `w4-floor-process-${runtime}: ${(await coldStart()).toFixed(1)} ms`,
  );
  const [p50, p99] = await latency();
  console.log(`w5-floor-process-p50-${runtime}: ${Math.round(p50)} µs`);
  console.log(`w5-floor-process-p99-${runtime}: ${Math.round(p99)} µs`);
  console.log(
    `w6-floor-${runtime}: ${(await bulkRoundTrip()).toFixed(1)} ms`,
  );
}
