/**
 * `deno task bench`: the workloads of the README's Benchmarks on Deno, on
 * Bun, on Node and, where `python3` is on the machine, on CPython,
 * interleaved round by round so that all of them share the machine's noise.
 * Prints the median of every figure as `name: value unit`, then the ratios.
 *
 * Bun and Node (22 or later) come from `PATH`, else from npm, as for
 * `deno task test` (`tests/_locate.ts`); a runtime that neither has, or a
 * missing `python3`, is left out with the reason on stderr, and so is a job
 * that fails (the run then exits with 1, after printing what it measured).
 *
 * Where test machines can be made (root, sshd: `tests/_ssh_hosts.ts`), W2
 * and W3 also run across 2 of them (`hosts.ts`); else the reason is on
 * stderr.
 *
 * `BENCH_ROUNDS` (default 5) sets the rounds; each round runs every job
 * once, and each job prints `BENCH_REPS` (default 3) repetitions.
 * `BENCH_ONLY` keeps the jobs whose file name contains it (e.g. `w2`).
 *
 * @module
 */
import { delimiter } from "node:path";
import { locate } from "../tests/_locate.ts";
import { SshHosts, sshHostsMissing } from "../tests/_ssh_hosts.ts";

interface Job {
  /** What runs the job; the first word is looked up on PATH. */
  argv: string[];
  /** Variables added to its environment. */
  env?: Record<string, string>;
}

interface Ratio {
  name: string;
  numerator: string;
  denominator: string;
}

const here = new URL(".", import.meta.url);
const path = (file: string) => new URL(file, here).pathname;

const bun = await locate("bun", 1, "bun@1");
const node = await locate("node", 22, "node@24");
const folders = [bun, node].flatMap((found) => found?.folder ?? []);
const PATH = [...folders, Deno.env.get("PATH") ?? ""].join(delimiter);

/** How each runtime runs a benchmark file. */
const RUNTIMES: Readonly<Record<string, string[]>> = {
  deno: [Deno.execPath(), "run", "-A"],
  ...(bun && { bun: [bun.command] }),
  ...(node && { node: [node.command] }),
};
for (const runtime of ["bun", "node"]) {
  if (!(runtime in RUNTIMES)) {
    console.error(`${runtime}: its figures are left out`);
  }
}
const ALL = Object.keys(RUNTIMES);

/** A benchmark file on each of `runtimes`, then its CPython twin. */
function jobs(
  file: string,
  runtimes: string[],
  python?: string,
  env?: Record<string, string>,
): Job[] {
  const own = runtimes.map((runtime) => ({
    argv: [...RUNTIMES[runtime], path(file)],
    env,
  }));
  return python === undefined
    ? own
    : [...own, { argv: ["python3", path(`python/${python}`)] }];
}

const only = Deno.env.get("BENCH_ONLY") ?? "";
const JOBS: Job[] = [
  ...jobs("w1_thread.ts", ALL, "w1_thread.py"),
  ...jobs("codec.ts", ALL),
  ...jobs("floor_process.ts", ALL),
  ...jobs("w2_process.ts", ALL, "w2_process.py"),
  ...jobs("w2_worker.ts", ALL),
  ...jobs("w3_scaling.ts", ALL, "w3_scaling.py"),
  ...jobs("w4_cold_start.ts", ALL, "w4_cold_start.py"),
  ...jobs("w5_latency.ts", ALL, "w5_latency.py"),
  ...jobs("w3_w5_worker.ts", ALL),
  ...jobs("w6_bulk.ts", ALL, "w6_bulk.py"),
  ...jobs("w7_mixed.ts", ALL),
];

/** The test machines for `hosts.ts`, when they can be made here. */
const machines = "hosts.ts".includes(only) ? acrossMachines() : undefined;
if (machines !== undefined) {
  JOBS.push(...jobs("hosts.ts", ALL, undefined, {
    BENCH_HOSTS: machines.hosts.join(" "),
    BENCH_SSH: JSON.stringify(machines.ssh),
  }));
}
const SELECTED = JOBS.filter((job) =>
  job.argv.some((word) => word.split("/").pop()!.includes(only))
);

function acrossMachines(): SshHosts | undefined {
  let missing: string | undefined;
  try {
    missing = sshHostsMissing();
  } catch (error) {
    missing = String(error);
  }
  if (missing === undefined) return SshHosts.up(2);
  console.error(`across machines: its figures are left out (${missing})`);
  return undefined;
}

/** Ratios as `[name, numerator, denominator]`, `RT` standing for each
 * runtime; a ratio whose figures are missing is left out. */
const RATIO_TEMPLATES: [string, string, string][] = [
  ["w1-RT-vs-cpython", "w1-pool-RT", "w1-pool-cpython"],
  ["w1-RT-vs-limiter", "w1-pool-RT", "w1-limiter-RT"],
  ["w2-submit-RT-vs-cpython", "w2-submit-RT", "w2-submit-cpython"],
  ["w2-submit-RT-vs-floor-16", "w2-submit-RT", "w2-floor-16-in-flight-RT"],
  ["w2-submit-RT-vs-floor-1", "w2-submit-RT", "w2-floor-1-in-flight-RT"],
  ["w2-map-chunk-RT-vs-cpython", "w2-map-chunk-RT", "w2-map-chunk-cpython"],
  ["w2-map-chunk-RT-vs-floor", "w2-map-chunk-RT", "w2-floor-for-await-RT"],
  [
    "w2-worker-map-chunk-RT-vs-floor",
    "w2-worker-map-chunk-RT",
    "w2-floor-for-await-RT",
  ],
  ["w4-RT-vs-floor", "w4-process-RT", "w4-floor-process-RT"],
  ["w5-p50-RT-vs-floor", "w5-process-p50-RT", "w5-floor-process-p50-RT"],
  ["w4-worker-RT-vs-floor", "w4-worker-RT", "w4-floor-worker-RT"],
  [
    "w5-worker-p50-RT-vs-floor",
    "w5-worker-p50-RT",
    "w5-floor-worker-p50-RT",
  ],
  // W6 in times: CPython's over ours is how many times faster we are; the
  // floor's over ours, what share of the pipe's speed we reach.
  ["w6-speedup-RT-vs-cpython", "w6-round-trip-cpython", "w6-round-trip-RT"],
  ["w6-RT-share-of-floor", "w6-floor-RT", "w6-round-trip-RT"],
  // W7: the long calls' speed-up after short ones over the same alone; 1
  // is the goal.
  [
    "w7-process-RT-mixed-vs-alone",
    "w7-mixed-process-RT",
    "w7-alone-process-RT",
  ],
  ["w7-worker-RT-mixed-vs-alone", "w7-mixed-worker-RT", "w7-alone-worker-RT"],
  // Across 2 machines over ssh, over the same pool on this one.
  ["hosts-w2-submit-RT-vs-local", "hosts-w2-submit-RT", "local-w2-submit-RT"],
  [
    "hosts-w2-map-chunk-RT-vs-local",
    "hosts-w2-map-chunk-RT",
    "local-w2-map-chunk-RT",
  ],
  ["hosts-w3-RT-vs-local", "hosts-w3-speedup-RT", "local-w3-speedup-RT"],
  [
    "hosts-w3-2ms-RT-vs-local",
    "hosts-w3-speedup-2ms-RT",
    "local-w3-speedup-2ms-RT",
  ],
  [
    "worker-copy-vs-transfer-64mb-RT",
    "worker-copy-64mb-RT",
    "worker-transfer-64mb-RT",
  ],
];

const RATIOS: Ratio[] = RATIO_TEMPLATES.flatMap((template) =>
  ["deno", "bun", "node"].map((runtime) => {
    const [name, numerator, denominator] = template.map((text) =>
      text.replace("RT", runtime)
    );
    return { name, numerator, denominator };
  })
);

const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const figures = new Map<string, { unit: string; values: number[] }>();
/** Commands that could not start: their jobs are left out. */
const missing = new Set<string>();
/** Jobs that exited with an error. */
let failures = 0;

/** Runs `job` with `env` added and records its figures. */
async function runJob(
  job: Job,
  env: Record<string, string> = job.env ?? {},
): Promise<void> {
  const [command, ...args] = job.argv;
  if (missing.has(command)) return;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, {
      args,
      stdin: "null",
      stderr: "inherit",
      env: { PATH, ...env },
    }).output();
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "not found"
      : `could not start (${error})`;
    console.error(`${command} ${why}: its figures are left out`);
    missing.add(command);
    return;
  }
  if (!output.success) {
    failures++;
    console.error(
      `${job.argv.join(" ")} failed (exit code ${output.code}): ` +
        "its figures of this round are left out",
    );
    return;
  }
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

try {
  for (let round = 1; round <= rounds; round++) {
    console.error(`round ${round} of ${rounds}`);
    for (const job of SELECTED) await runJob(job);
  }
  // Memory once per runtime, in a fresh process.
  for (
    const job of jobs("w1_thread.ts", "w1_thread.ts".includes(only) ? ALL : [])
  ) {
    await runJob(job, { BENCH_MEMORY: "only" });
  }
} finally {
  machines?.down();
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
if (failures > 0) {
  console.error(`${failures} job(s) failed: their figures are left out`);
  Deno.exit(1);
}
