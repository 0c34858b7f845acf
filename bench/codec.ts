/**
 * What the value codec costs on top of JSON, measured on any runtime:
 *
 * ```sh
 * deno run bench/codec.ts
 * bun bench/codec.ts
 * node bench/codec.ts
 * ```
 *
 * Prints one `name: value unit` line per figure, each name ending in the
 * runtime's name (`codec-plain-encode-ratio-deno: 1.40 x`):
 * - `codec-plain-encode` / `-decode`: MB/s of `JSON.stringify(encode(x))`
 *   and `decode(JSON.parse(s))` on plain JSON data (1,000 rows of
 *   `{ id, name, email, tags[], score, active, address{ geo{} } }`, ~190 kB);
 * - `codec-plain-encode-ratio` / `-decode-ratio`: that time over plain
 *   `JSON.stringify` / `JSON.parse` of the same data (target: ≤ 1.5 x);
 * - `codec-plain-encode-hot-ratio`: the same, re-encoding one graph that
 *   stays in cache with its identity hashes made (the codec's worst case,
 *   not the pool's);
 * - `codec-rich-encode` / `-decode`: MB/s of the same rows with a `Date`,
 *   a `BigInt`, a `Set`, a `Uint8Array`, an `undefined` and an object shared
 *   by every row, which all take the graph path.
 *
 * Every call gets objects built just before it, outside the timed region, as
 * the pool's arguments and results are. The codec and its JSON-only baseline
 * run interleaved (alternating which goes first), 15 repetitions, median; a
 * ratio is the median of the per-repetition ratios. Time is the process's
 * CPU time where the runtime reports it: on a shared machine, wall time also
 * counts other tenants (and starves the garbage collector's helper threads),
 * which skews ratios.
 *
 * @module
 */
import process from "node:process";
import { decode, encode, sectionsOf } from "../workers/_codec.ts";
import { requireRuntime } from "../executor/_runtime.ts";

const runtime = requireRuntime("the benchmarks");
const ROWS = 1000;
const REPETITIONS = 15;
/** How long one block of calls should run, so that timer resolution and
 * scheduling noise are small against it. */
const BLOCK_MS = 15;

const CITIES = ["Berlin", "Lisbon", "Montréal", "Oslo", "Kraków"];

function plainRows(): Record<string, unknown>[] {
  const rows = [];
  for (let i = 0; i < ROWS; i++) {
    rows.push({
      id: 100_000 + i,
      name: `User ${i}`,
      email: `user${i}@example.com`,
      tags: [
        "customer",
        i % 3 === 0 ? "priority" : "standard",
        `cohort-${i % 12}`,
      ],
      score: Math.round((i * 7.31) % 100 * 100) / 100,
      active: i % 5 !== 0,
      address: {
        city: CITIES[i % CITIES.length],
        zip: String(10_000 + i * 7),
        geo: { lat: 48.1 + i / 997, lng: 11.5 - i / 991 },
      },
    });
  }
  return rows;
}

function richRows(): Record<string, unknown>[] {
  const owner = { team: "billing", region: "eu" };
  return plainRows().map((row, i) => ({
    ...row,
    created: new Date(1_700_000_000_000 + i * 60_000),
    balance: BigInt(i) * 1_000_000_000_000n,
    flags: new Set(["a", `f${i % 4}`]),
    digest: new Uint8Array(16).fill(i & 255),
    note: i % 10 === 0 ? undefined : "ok",
    owner,
  }));
}

/** CPU time in ms where the runtime reports it, else wall time. */
const now: () => number = typeof process?.cpuUsage === "function"
  ? () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
  : () => performance.now();

let sink = 0;

/** Calls `fn` `n` times, each on an input made just before the call (as
 * the pool encodes values its caller has just built), timing only the
 * calls; the time per call in ms. */
function block<T>(fn: (input: T) => unknown, make: () => T, n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const input = make();
    const start = now();
    if (fn(input) === sink) sink++;
    total += now() - start;
  }
  return total / n;
}

/** How many calls of `fn` make one block. */
function calibrate<T>(fn: (input: T) => unknown, make: () => T): number {
  block(fn, make, 20); // warm up the JIT
  let n = 1;
  while (block(fn, make, n) * n < BLOCK_MS) n *= 2;
  return n;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

interface Pair {
  /** Median time per codec call, in ms. */
  codec: number;
  /** Median of the per-repetition ratios codec / baseline. */
  ratio: number;
}

/** Times `codec` against `baseline` on fresh inputs, interleaved. */
function compare<T>(
  make: () => T,
  codec: (input: T) => unknown,
  baseline: (input: T) => unknown,
): Pair {
  const n = calibrate(baseline, make);
  const m = calibrate(codec, make);
  const times: number[] = [];
  const ratios: number[] = [];
  for (let rep = 0; rep < REPETITIONS; rep++) {
    let b: number, c: number;
    if (rep % 2 === 0) {
      b = block(baseline, make, n);
      c = block(codec, make, m);
    } else {
      c = block(codec, make, m);
      b = block(baseline, make, n);
    }
    times.push(c);
    ratios.push(c / b);
  }
  return { codec: median(times), ratio: median(ratios) };
}

/** Times `fn` alone on fresh inputs; the median per call in ms. */
function measure<T>(make: () => T, fn: (input: T) => unknown): number {
  const n = calibrate(fn, make);
  const times: number[] = [];
  for (let rep = 0; rep < REPETITIONS; rep++) {
    times.push(block(fn, make, n));
  }
  return median(times);
}

function mbPerSecond(bytes: number, ms: number): string {
  return (bytes / 1e6 / (ms / 1e3)).toFixed(1);
}

/** Runs the benchmark and prints its figures. */
export function main(): void {
  const plain = plainRows();
  if (encode(plain, "plain") !== plain) {
    throw new Error("the plain payload did not take the plain path");
  }
  const plainJson = JSON.stringify(plain);
  const plainBytes = new TextEncoder().encode(plainJson).length;
  const richWire = encode(richRows(), "rich");
  const richJson = JSON.stringify(richWire);
  // The bytes of its Uint8Arrays, as the frame reader hands them over.
  const richSections = sectionsOf(richWire).map((bytes) =>
    bytes.slice().buffer
  );
  const richBytes = new TextEncoder().encode(richJson).length;
  const same = <T>(value: T) => () => value; // parsing makes fresh objects

  const enc = compare(
    plainRows,
    (rows) => JSON.stringify(encode(rows, "plain")),
    (rows) => JSON.stringify(rows),
  );
  // The codec's worst case: one graph re-encoded while it sits in cache,
  // where JSON.stringify runs fastest.
  const hot = compare(
    same(plain),
    (rows) => JSON.stringify(encode(rows, "plain")),
    (rows) => JSON.stringify(rows),
  );
  const dec = compare(
    same(plainJson),
    (json) => decode(JSON.parse(json)),
    (json) => JSON.parse(json),
  );
  const richEnc = measure(
    richRows,
    (rows) => JSON.stringify(encode(rows, "rich")),
  );
  const richDec = measure(
    same(richJson),
    (json) => decode(JSON.parse(json), richSections),
  );

  const figures: [string, string, string][] = [
    ["codec-plain-encode", mbPerSecond(plainBytes, enc.codec), "MB/s"],
    ["codec-plain-encode-ratio", enc.ratio.toFixed(2), "x"],
    ["codec-plain-encode-hot-ratio", hot.ratio.toFixed(2), "x"],
    ["codec-plain-decode", mbPerSecond(plainBytes, dec.codec), "MB/s"],
    ["codec-plain-decode-ratio", dec.ratio.toFixed(2), "x"],
    ["codec-rich-encode", mbPerSecond(richBytes, richEnc), "MB/s"],
    ["codec-rich-decode", mbPerSecond(richBytes, richDec), "MB/s"],
  ];
  for (const [name, value, unit] of figures) {
    console.log(`${name}-${runtime}: ${value} ${unit}`);
  }
}

if (import.meta.main) main();
