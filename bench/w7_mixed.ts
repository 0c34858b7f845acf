/**
 * W7 mixed (the README's Benchmarks): long calls after short ones, the
 * scheduling test. On a pool of 2, 400 calls of `fib(20)` are submitted and
 * awaited, then 16 calls of `fib(30)` (~10 ms each) are timed; beside them,
 * the same 16 on a pool that ran no short calls. Each figure is the speed-up
 * over running the 16 one after another on this thread: a pool that binds
 * the long calls to one worker after the short ones scores 1, one that
 * spreads them scores what the pool alone scores (limit 2).
 *
 * - `w7-mixed-{process,worker}` and `w7-alone-{process,worker}`, for both
 *   CPU pools;
 * - under Node, `w7-mixed-piscina` and `w7-alone-piscina`: the same with
 *   piscina, when `BENCH_PEERS` names a folder where npm installed it
 *   (`npm install --prefix <folder> piscina`).
 *
 * Runs under Deno, Bun and Node. Prints `name: value unit` per repetition
 * (`BENCH_REPS`, default 3), the runtime's name in every figure name.
 *
 * @module
 */
import process from "node:process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ProcessPoolExecutor, WorkerPoolExecutor } from "../mod.ts";
import {
  pooled,
  serial,
  type Submitter,
  WARM_UP,
  type Workload,
} from "./_w3.ts";
import { requireRuntime } from "../executor/_runtime.ts";

const WORKERS = 2;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const runtime = requireRuntime("the benchmarks");
const SHORT: Workload = { suffix: "", n: 20, calls: 400 };
const LONG: Workload = { suffix: "", n: 30, calls: 16 };

/** A pool that runs `fib(n)` calls: ours, or a peer's behind the same API. */
interface Side {
  readonly name: string;
  make(): Promise<Pool>;
}

interface Pool extends Submitter {
  shutdown(): Promise<void>;
}

/** The speed-ups of the long calls alone and after the short ones. */
async function speedUps(side: Side): Promise<{ alone: number; mixed: number }> {
  const serialMs = serial(LONG);
  const alone = await side.make();
  await pooled(alone, WARM_UP);
  const aloneMs = await pooled(alone, LONG);
  await alone.shutdown();
  const mixed = await side.make();
  await pooled(mixed, WARM_UP);
  await pooled(mixed, SHORT);
  const mixedMs = await pooled(mixed, LONG);
  await mixed.shutdown();
  return { alone: serialMs / aloneMs, mixed: serialMs / mixedMs };
}

/** piscina, when `BENCH_PEERS` has it and this is Node. */
async function piscina(): Promise<Side | undefined> {
  const peers = process.env.BENCH_PEERS;
  if (runtime !== "node" || peers === undefined) return undefined;
  let entry: string;
  try {
    entry = createRequire(join(peers, "x.js")).resolve("piscina");
  } catch {
    console.error(`w7: no piscina in ${peers}: its figures are left out`);
    return undefined;
  }
  const module = await import(pathToFileURL(entry).href);
  const Piscina = module.Piscina ?? module.default?.Piscina ?? module.default;
  const filename = new URL("./_w7_piscina_task.ts", import.meta.url).href;
  return {
    name: "piscina",
    make: () => {
      const pool = new Piscina({
        filename,
        minThreads: WORKERS,
        maxThreads: WORKERS,
      });
      return Promise.resolve({
        submit: (_fn: unknown, n: number): Promise<number> => pool.run(n),
        shutdown: () => pool.destroy(),
      });
    },
  };
}

const sides: Side[] = [
  {
    name: "process",
    make: () =>
      Promise.resolve(new ProcessPoolExecutor({ maxWorkers: WORKERS })),
  },
  {
    name: "worker",
    make: () =>
      Promise.resolve(new WorkerPoolExecutor({ maxWorkers: WORKERS })),
  },
];
const peer = await piscina();
if (peer !== undefined) sides.push(peer);
serial(WARM_UP);
for (let rep = 0; rep < REPS; rep++) {
  for (const side of sides) {
    const { alone, mixed } = await speedUps(side);
    const name = side.name === "piscina"
      ? "piscina"
      : `${side.name}-${runtime}`;
    console.log(`w7-alone-${name}: ${alone.toFixed(2)} x`);
    console.log(`w7-mixed-${name}: ${mixed.toFixed(2)} x`);
  }
}
