/**
 * `deno task bench`: the workloads of BENCHMARKS.md on Deno, on Bun and,
 * where `python3` is on the machine, on CPython, interleaved round by round
 * so that all of them share the machine's noise. Prints the median of every
 * figure as `name: value unit`, then the ratios.
 *
 * `BENCH_ROUNDS` (default 5) sets the rounds; each round runs every job
 * once, and each job prints `BENCH_REPS` (default 3) repetitions.
 *
 * @module
 */

interface Job {
  /** What runs the job; the first word is looked up on PATH. */
  argv: string[];
}

interface Ratio {
  name: string;
  numerator: string;
  denominator: string;
}

const here = new URL(".", import.meta.url);
const path = (file: string) => new URL(file, here).pathname;
const deno = [Deno.execPath(), "run", "-A"];

const JOBS: Job[] = [
  { argv: [...deno, path("w1_thread.ts")] },
  { argv: ["bun", path("w1_thread.ts")] },
  { argv: ["python3", path("python/w1_thread.py")] },
  { argv: [...deno, path("codec.ts")] },
  { argv: ["bun", path("codec.ts")] },
  { argv: [...deno, path("floor_process.ts")] },
  { argv: ["bun", path("floor_process.ts")] },
  { argv: [...deno, path("w2_process.ts")] },
  { argv: ["bun", path("w2_process.ts")] },
  { argv: ["python3", path("python/w2_process.py")] },
  { argv: [...deno, path("w3_scaling.ts")] },
  { argv: ["bun", path("w3_scaling.ts")] },
  { argv: ["python3", path("python/w3_scaling.py")] },
  { argv: [...deno, path("w4_cold_start.ts")] },
  { argv: ["bun", path("w4_cold_start.ts")] },
  { argv: ["python3", path("python/w4_cold_start.py")] },
  { argv: [...deno, path("w5_latency.ts")] },
  { argv: ["bun", path("w5_latency.ts")] },
  { argv: ["python3", path("python/w5_latency.py")] },
  { argv: [...deno, path("w3_w5_worker.ts")] },
  { argv: ["bun", path("w3_w5_worker.ts")] },
  { argv: [...deno, path("w6_bulk.ts")] },
  { argv: ["bun", path("w6_bulk.ts")] },
  { argv: ["python3", path("python/w6_bulk.py")] },
];

const RATIOS: Ratio[] = [
  {
    name: "w1-deno-vs-cpython",
    numerator: "w1-pool-deno",
    denominator: "w1-pool-cpython",
  },
  {
    name: "w1-bun-vs-cpython",
    numerator: "w1-pool-bun",
    denominator: "w1-pool-cpython",
  },
  {
    name: "w1-deno-vs-limiter",
    numerator: "w1-pool-deno",
    denominator: "w1-limiter-deno",
  },
  {
    name: "w1-bun-vs-limiter",
    numerator: "w1-pool-bun",
    denominator: "w1-limiter-bun",
  },
  {
    name: "w2-submit-deno-vs-cpython",
    numerator: "w2-submit-deno",
    denominator: "w2-submit-cpython",
  },
  {
    name: "w2-submit-bun-vs-cpython",
    numerator: "w2-submit-bun",
    denominator: "w2-submit-cpython",
  },
  {
    name: "w2-submit-deno-vs-floor-16",
    numerator: "w2-submit-deno",
    denominator: "w2-floor-16-in-flight-deno",
  },
  {
    name: "w2-submit-bun-vs-floor-16",
    numerator: "w2-submit-bun",
    denominator: "w2-floor-16-in-flight-bun",
  },
  {
    name: "w2-submit-deno-vs-floor-1",
    numerator: "w2-submit-deno",
    denominator: "w2-floor-1-in-flight-deno",
  },
  {
    name: "w2-submit-bun-vs-floor-1",
    numerator: "w2-submit-bun",
    denominator: "w2-floor-1-in-flight-bun",
  },
  {
    name: "w2-map-chunk-deno-vs-cpython",
    numerator: "w2-map-chunk-deno",
    denominator: "w2-map-chunk-cpython",
  },
  {
    name: "w2-map-chunk-bun-vs-cpython",
    numerator: "w2-map-chunk-bun",
    denominator: "w2-map-chunk-cpython",
  },
  {
    name: "w4-deno-vs-floor",
    numerator: "w4-process-deno",
    denominator: "w4-floor-process-deno",
  },
  {
    name: "w4-bun-vs-floor",
    numerator: "w4-process-bun",
    denominator: "w4-floor-process-bun",
  },
  {
    name: "w5-p50-deno-vs-floor",
    numerator: "w5-process-p50-deno",
    denominator: "w5-floor-process-p50-deno",
  },
  {
    name: "w5-p50-bun-vs-floor",
    numerator: "w5-process-p50-bun",
    denominator: "w5-floor-process-p50-bun",
  },
  {
    name: "w4-worker-deno-vs-floor",
    numerator: "w4-worker-deno",
    denominator: "w4-floor-worker-deno",
  },
  {
    name: "w4-worker-bun-vs-floor",
    numerator: "w4-worker-bun",
    denominator: "w4-floor-worker-bun",
  },
  {
    name: "w5-worker-p50-deno-vs-floor",
    numerator: "w5-worker-p50-deno",
    denominator: "w5-floor-worker-p50-deno",
  },
  {
    name: "w5-worker-p50-bun-vs-floor",
    numerator: "w5-worker-p50-bun",
    denominator: "w5-floor-worker-p50-bun",
  },
  // W6 in times: CPython's over ours is how many times faster we are; the
  // floor's over ours, what share of the pipe's speed we reach.
  {
    name: "w6-speedup-deno-vs-cpython",
    numerator: "w6-round-trip-cpython",
    denominator: "w6-round-trip-deno",
  },
  {
    name: "w6-speedup-bun-vs-cpython",
    numerator: "w6-round-trip-cpython",
    denominator: "w6-round-trip-bun",
  },
  {
    name: "w6-deno-share-of-floor",
    numerator: "w6-floor-deno",
    denominator: "w6-round-trip-deno",
  },
  {
    name: "w6-bun-share-of-floor",
    numerator: "w6-floor-bun",
    denominator: "w6-round-trip-bun",
  },
  {
    name: "worker-copy-vs-transfer-64mb-deno",
    numerator: "worker-copy-64mb-deno",
    denominator: "worker-transfer-64mb-deno",
  },
  {
    name: "worker-copy-vs-transfer-64mb-bun",
    numerator: "worker-copy-64mb-bun",
    denominator: "worker-transfer-64mb-bun",
  },
];

const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const figures = new Map<string, { unit: string; values: number[] }>();
const missing = new Set<string>();

async function runJob(job: Job): Promise<void> {
  const [command, ...args] = job.argv;
  if (missing.has(command)) return;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, {
      args,
      stdin: "null",
      stderr: "inherit",
    }).output();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    console.error(`${command} not found: its figures are left out`);
    missing.add(command);
    return;
  }
  if (!output.success) throw new Error(`${job.argv.join(" ")} failed`);
  record(new TextDecoder().decode(output.stdout));
}

function record(text: string): void {
  for (const line of text.split("\n")) {
    const match = /^([\w.-]+): ([\d.]+) (.+)$/.exec(line.trim());
    if (!match) continue;
    const [, name, value, unit] = match;
    const figure = figures.get(name) ?? { unit, values: [] };
    figure.values.push(Number(value));
    figures.set(name, figure);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

function format(value: number): string {
  return value >= 100 ? String(Math.round(value)) : value.toFixed(2);
}

for (let round = 1; round <= rounds; round++) {
  console.error(`round ${round} of ${rounds}`);
  for (const job of JOBS) await runJob(job);
}
// Memory once per runtime, in a fresh process.
for (const job of JOBS.slice(0, 2)) {
  const [command, ...args] = job.argv;
  if (missing.has(command)) continue;
  const output = await new Deno.Command(command, {
    args,
    stdin: "null",
    env: { BENCH_MEMORY: "only" },
  }).output();
  record(new TextDecoder().decode(output.stdout));
}

for (const [name, { unit, values }] of figures) {
  console.log(`${name}: ${format(median(values))} ${unit}`);
}
for (const ratio of RATIOS) {
  const top = figures.get(ratio.numerator);
  const bottom = figures.get(ratio.denominator);
  if (!top || !bottom) continue;
  console.log(
    `${ratio.name}: ${
      (median(top.values) / median(bottom.values)).toFixed(2)
    } x`,
  );
}
