/**
 * W2 and W3 across machines: a `ProcessPoolExecutor` with one worker on
 * each of 2 test machines (network namespaces on this machine, reached over
 * ssh: `tests/_ssh_hosts.ts`), next to the same pool of 2 workers on this
 * machine, in the same process, side by side in every repetition.
 *
 * - `hosts-w2-submit` / `local-w2-submit`: W2's submit-all round trips;
 * - `hosts-w2-map-chunk` / `local-w2-map-chunk`: W2's chunked `map`;
 * - `hosts-w3-speedup[-2ms]` / `local-w3-speedup[-2ms]`: W3's speed-ups
 *   over the serial loop, the three sides in a random order.
 *
 * The machines share this machine's cores, so what the figures compare is
 * the cost of the path (ssh's encryption, its processes and the loopback
 * links), not more cores. `deno task bench` makes the machines and passes
 * them in `BENCH_HOSTS` (ssh destinations) and `BENCH_SSH` (ssh options,
 * as JSON).
 *
 * Runs under Deno, Bun and Node. Prints `name: value unit` per repetition
 * (`BENCH_REPS`, default 3), the runtime's name in every figure name.
 *
 * @module
 */
import process from "node:process";
import { ProcessPoolExecutor } from "../mod.ts";
import { requireRuntime } from "../executor/_runtime.ts";
import { mapChunked, submitAll, WARM_UPS } from "./_w2.ts";
import { pooled, speedUps, WARM_UP, WORKLOADS } from "./_w3.ts";

const REPS = Number(process.env.BENCH_REPS ?? 3);
const runtime = requireRuntime("the benchmarks");
const hosts = (process.env.BENCH_HOSTS ?? "").split(" ").filter(Boolean);
const ssh = JSON.parse(process.env.BENCH_SSH ?? "[]") as string[];
if (hosts.length !== 2) throw new Error("BENCH_HOSTS must name 2 machines");

const pools = {
  hosts: new ProcessPoolExecutor({
    hosts: hosts.map((host) => ({ host, workers: 1, ssh })),
  }),
  local: new ProcessPoolExecutor({ maxWorkers: 2 }),
};
for (const pool of Object.values(pools)) {
  for (let i = 0; i < WARM_UPS; i++) {
    await submitAll(pool);
    await mapChunked(pool);
  }
  await pooled(pool, WARM_UP);
}
for (let rep = 0; rep < REPS; rep++) {
  for (const [where, pool] of Object.entries(pools)) {
    const submit = Math.round(await submitAll(pool));
    console.log(`${where}-w2-submit-${runtime}: ${submit} round-trips/s`);
    const map = Math.round(await mapChunked(pool));
    console.log(`${where}-w2-map-chunk-${runtime}: ${map} items/s`);
  }
  for (const workload of WORKLOADS) {
    const speedUp = await speedUps(
      workload,
      pools.hosts,
      (w) => pooled(pools.local, w),
    );
    const suffix = `${workload.suffix}-${runtime}`;
    console.log(`hosts-w3-speedup${suffix}: ${speedUp.pool.toFixed(2)} x`);
    console.log(`local-w3-speedup${suffix}: ${speedUp.floor.toFixed(2)} x`);
  }
}
await Promise.all(Object.values(pools).map((pool) => pool.shutdown()));
