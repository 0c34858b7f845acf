/**
 * Pools across machines (`hosts`), against real sshd: test machines made
 * for each test by `_ssh_hosts.ts`, network namespaces on this machine whose
 * sshd cannot see this checkout, so everything a remote worker runs came
 * over ssh. Faults are made for real: a link that drops every packet, an
 * sshd stopped, a remote worker killed, a key refused.
 *
 * They need root and sshd; without them they are skipped and say why,
 * except under CI, whose `.ci/run` installs what they need.
 *
 * @module
 */
import assert from "node:assert/strict";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { BrokenProcessPool, WorkerDiedError } from "../mod.ts";
import { ProcessPoolExecutor } from "../executor/process_pool_executor.ts";
import type { HostSpec } from "../executor/process_pool_executor.ts";
import { requireRuntime } from "../executor/_runtime.ts";
import { workerCommand } from "../executor/_worker_command.ts";
import type { RuntimeName } from "../workers/_runtime.ts";
import { rejection, test } from "./_harness.ts";
import { runScript } from "./_script.ts";
import { SshHosts, sshHostsMissing } from "./_ssh_hosts.ts";

const missing = sshHostsMissing();
const runtime = requireRuntime("the tests");
/** Another runtime for the second machine, so that every parent runs
 * workers of two runtimes over ssh. */
const OTHER: Record<RuntimeName, RuntimeName> = {
  deno: "bun",
  bun: "node",
  node: "deno",
};
const CHECKOUT = fileURLToPath(new URL("../deno.json", import.meta.url));

/** Runs `body` with `count` fresh test machines, removed after. */
function withHosts(
  name: string,
  count: number,
  body: (machines: SshHosts) => Promise<void>,
): void {
  test(name, async () => {
    const machines = SshHosts.up(count);
    try {
      await body(machines);
      assert.equal(machines.strays(), 0, "packets tried to leave the machine");
    } finally {
      machines.down();
    }
  }, missing);
}

/** Sent by source to every worker: the call's number and the test machine
 * it ran on (its address, or "local"), after `ms`, or after two minutes,
 * longer than any test may take, when `hangOn` names that machine. */
async function whereAmI(
  i: number,
  hangOn?: string,
  ms = 0,
): Promise<[number, string]> {
  const { networkInterfaces } = await import("node:os");
  const address =
    Object.values(networkInterfaces()).flat().find((entry) =>
      entry?.family === "IPv4" && /^10\.234\.\d+\.2$/.test(entry.address)
    )?.address ?? "local";
  if (address === hangOn) ms = 120_000;
  if (ms > 0) await new Promise((ok) => setTimeout(ok, ms));
  return [i, address];
}

/** Waits until `ready` holds; the pool sends no event for it, so this looks
 * every 10 ms. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Starts every worker of `pool` and returns once all are ready and idle,
 * so that as many calls submitted together go one to each: rounds of one
 * short call per worker until then (a worker that is ready first may take
 * more than one). */
async function startEveryWorker(pool: ProcessPoolExecutor): Promise<void> {
  const count = pool.maxWorkers;
  while (pool.stats().idle < count) {
    await Promise.all(
      Array.from(
        { length: count },
        (_, i) => pool.submit(whereAmI, i, undefined, 100),
      ),
    );
  }
}

/** Waits until nothing of the pool runs on the test machines nor reaches
 * them from here; fails after `ms`. Polling: the operating system sends no
 * event when a process goes. */
async function assertNothingLeft(machines: SshHosts, ms: number) {
  const deadline = performance.now() + ms;
  const left = () => [
    ...machines.clients(),
    ...machines.hosts.flatMap((_, i) => machines.processes(i)),
  ];
  while (left().length > 0) {
    if (performance.now() > deadline) {
      assert.fail(`still running after ${ms} ms: ${JSON.stringify(left())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

withHosts(
  "a pool across machines runs calls on every one, by source, with its env and the checkout out of their sight",
  2,
  async (machines) => {
    const hosts: HostSpec[] = [
      { host: machines.hosts[0], workers: 2, ssh: machines.ssh },
      {
        host: machines.hosts[1],
        workers: 2,
        ssh: machines.ssh,
        runtime: OTHER[runtime],
      },
    ];
    const env = { FUTURES_TEST: `it's "here" $HOME` };
    await using pool = new ProcessPoolExecutor({ hosts, env });
    assert.equal(pool.maxWorkers, 4);
    await startEveryWorker(pool);
    const seen = await Promise.all(
      Array.from({ length: 40 }, (_, i) => pool.submit(whereAmI, i)),
    );
    assert.deepEqual(seen.map(([i]) => i), [...seen.keys()]);
    assert.deepEqual(
      new Set(seen.map(([, where]) => where)),
      new Set([machines.address(0), machines.address(1)]),
    );
    const sees = (path: string) =>
      import("node:fs").then(({ existsSync }) => existsSync(path));
    assert.equal(await sees(CHECKOUT), true);
    assert.equal(await pool.submit(sees, CHECKOUT), false);
    const thrown = await rejection(pool.submit(() => {
      throw new RangeError("thrown there");
    }));
    assert.ok(thrown instanceof RangeError);
    assert.ok(thrown.cause instanceof Error);
    assert.match(thrown.cause.message, /thrown there/);
    assert.doesNotMatch(thrown.cause.message, /data:/);
    const variable = (name: string) =>
      import("node:process").then(({ env }) => env[name]);
    assert.equal(
      await pool.submit(variable, "FUTURES_TEST"),
      env.FUTURES_TEST,
    );
    const stats = pool.stats().hosts!;
    assert.deepEqual(
      stats.map(({ host, workers, state }) => [host, workers, state]),
      [
        [machines.hosts[0], 2, "up"],
        [machines.hosts[1], 2, "up"],
      ],
    );
    // The call that threw.
    assert.equal(stats[0].failed + stats[1].failed, 1);
  },
);

withHosts(
  "a chunked map over machines spreads its chunks over all of them, in order, on as many workers as they have cores",
  2,
  async (machines) => {
    await using pool = new ProcessPoolExecutor({
      hosts: machines.specs(),
    });
    // Until a machine's first worker says how many cores it has, the pool
    // counts one.
    assert.equal(pool.maxWorkers, 2);
    await startEveryWorker(pool);
    assert.equal(pool.maxWorkers, 2 * navigator.hardwareConcurrency);
    const items = Array.from({ length: 2000 }, (_, i) => i);
    const results = await Array.fromAsync(
      pool.map(whereAmI, items, { chunksize: 50 }),
    );
    assert.deepEqual(results.map(([i]) => i), [...results.keys()]);
    assert.deepEqual(
      new Set(results.map(([, where]) => where)),
      new Set([machines.address(0), machines.address(1)]),
    );
  },
);

withHosts(
  "a machine whose link drops every packet fails only its calls, naming it and ssh's last word, and the others serve on",
  2,
  async (machines) => {
    // Keepalive each second, so that the loss is seen within 3 s.
    const ssh = [
      ...machines.ssh,
      "-o",
      "ServerAliveInterval=1",
      "-o",
      "ServerAliveCountMax=2",
    ];
    await using pool = new ProcessPoolExecutor({
      hosts: machines.specs({ workers: 2, ssh }),
      onWorkerDeath: "replace",
    });
    await startEveryWorker(pool);
    const lost = machines.address(0);
    const futures = Array.from(
      { length: 4 },
      (_, i) => pool.submit(whereAmI, i, lost),
    );
    await until(() => pool.stats().hosts![0].running === 2);
    machines.fault("cut", 0);
    // Its calls would end in two minutes: they end within this test only as
    // the loss is seen.
    const outcomes = await Promise.allSettled(futures);
    const failed = outcomes.filter((outcome) => outcome.status === "rejected");
    assert.equal(failed.length, 2);
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === "fulfilled") {
        assert.deepEqual(outcome.value, [i, machines.address(1)]);
        continue;
      }
      const error = outcome.reason;
      assert.ok(error instanceof WorkerDiedError, String(error));
      assert.equal(error.host, machines.hosts[0]);
      assert.match(error.message, new RegExp(machines.hosts[0]));
      assert.match(error.stderr ?? "", /not responding/);
    }
    const after = await Promise.all(
      Array.from({ length: 8 }, (_, i) => pool.submit(whereAmI, i, lost)),
    );
    assert.deepEqual(after, after.map((_, i) => [i, machines.address(1)]));
    const [gone, serving] = pool.stats().hosts!;
    assert.equal(gone.failed, 2);
    assert.notEqual(gone.state, "up");
    assert.equal(serving.state, "up");
    assert.equal(serving.failed, 0);
  },
);

withHosts(
  "a remote worker killed with SIGKILL fails only its call, naming its machine",
  2,
  async (machines) => {
    await using pool = new ProcessPoolExecutor({
      hosts: machines.specs({ workers: 1 }),
      onWorkerDeath: "replace",
    });
    await startEveryWorker(pool);
    const doomed = machines.address(0);
    const futures = [0, 1].map((i) => pool.submit(whereAmI, i, doomed));
    await until(() => pool.stats().hosts![0].running > 0);
    const [worker] = machines.processes(0).filter(({ command }) =>
      /^(deno|bun|node) /.test(command)
    );
    assert.ok(worker, JSON.stringify(machines.processes(0)));
    process.kill(worker.pid, "SIGKILL");
    const outcomes = await Promise.allSettled(futures);
    const failed = outcomes.find((outcome) => outcome.status === "rejected");
    assert.ok(failed !== undefined && failed.reason instanceof WorkerDiedError);
    assert.equal(failed.reason.host, machines.hosts[0]);
    assert.ok(
      outcomes.some((outcome) =>
        outcome.status === "fulfilled" &&
        outcome.value[1] === machines.address(1)
      ),
    );
  },
);

withHosts(
  "a machine whose sshd is stopped before the pool starts rests, and the others serve",
  2,
  async (machines) => {
    machines.fault("sshd-stop", 0);
    await using pool = new ProcessPoolExecutor({
      hosts: machines.specs({ workers: 2 }),
      onWorkerDeath: "replace",
    });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => pool.submit(whereAmI, i)),
    );
    assert.deepEqual(results, results.map((_, i) => [i, machines.address(1)]));
    const [stopped, serving] = pool.stats().hosts!;
    assert.equal(stopped.workers, 0);
    assert.equal(stopped.failed, 0, "no call was given to it");
    assert.notEqual(stopped.state, "up");
    assert.equal(serving.state, "up");
  },
);

withHosts(
  "a refused key or an unknown host key breaks a default pool with an error that names the machine and says why",
  1,
  async (machines) => {
    const refused = [...machines.ssh, "-o", "PubkeyAuthentication=no"];
    const unknown = [...machines.ssh, "-o", "UserKnownHostsFile=/dev/null"];
    for (
      const [ssh, why] of [[refused, /Permission denied/], [
        unknown,
        /Host key verification failed/,
      ]] as const
    ) {
      await using pool = new ProcessPoolExecutor({
        hosts: [{ host: machines.hosts[0], ssh }],
      });
      const error = await rejection(pool.submit(whereAmI, 0));
      assert.ok(error instanceof BrokenProcessPool, String(error));
      assert.match(error.message, new RegExp(machines.hosts[0]));
      assert.match(error.message, why);
    }
  },
);

withHosts(
  "a pool whose every machine is down breaks with BrokenProcessPool, saying why each one failed",
  2,
  async (machines) => {
    machines.fault("sshd-stop", 0);
    machines.fault("sshd-stop", 1);
    await using pool = new ProcessPoolExecutor({
      hosts: machines.specs(),
      onWorkerDeath: "replace",
    });
    const error = await rejection(pool.submit(whereAmI, 0));
    assert.ok(error instanceof BrokenProcessPool, String(error));
    assert.match(error.message, /no host can serve/);
    for (const host of machines.hosts) {
      assert.match(error.message, new RegExp(`${host}: .*Connection refused`));
    }
    assert.deepEqual(pool.stats().hosts!.map(({ state }) => state), [
      "down",
      "down",
    ]);
  },
);

withHosts(
  "a module that the machine cannot import fails the pool with an error that names the machine and the module",
  1,
  async (machines) => {
    const module = new URL("./fixtures/process_tasks.ts", import.meta.url);
    await using pool = new ProcessPoolExecutor({
      hosts: [{ host: machines.hosts[0], ssh: machines.ssh }],
      modules: [module],
    });
    const error = await rejection(pool.submit(whereAmI, 0));
    assert.ok(error instanceof BrokenProcessPool, String(error));
    assert.match(error.message, new RegExp(machines.hosts[0]));
    assert.ok(error.message.includes(module.href), error.message);
    // The worker's own modules, which it runs from data: URLs, go by name.
    assert.doesNotMatch(error.message, /data:/);
  },
);

withHosts(
  "shutdown() leaves no ssh client here and no process there",
  2,
  async (machines) => {
    const pool = new ProcessPoolExecutor({
      hosts: machines.specs({ workers: 2 }),
    });
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => pool.submit(whereAmI, i)),
    );
    assert.ok(machines.clients().length > 0);
    await pool.shutdown();
    assert.deepEqual(machines.clients(), []);
    // sshd ends a session just after its command.
    await assertNothingLeft(machines, 2_000);
  },
);

withHosts(
  "a parent killed with SIGKILL leaves no ssh client here and no process there",
  2,
  async (machines) => {
    const parent = runScript(
      [
        ...workerCommand(
          runtime,
          new URL("./fixtures/hosts_parent.ts", import.meta.url),
        ),
        JSON.stringify(machines.ssh),
        ...machines.hosts,
      ],
      {},
      30_000,
    );
    assert.equal(await parent.line, "running");
    assert.equal(machines.clients().length, 2);
    parent.kill();
    assert.deepEqual(await parent.exited, { code: null, signal: "SIGKILL" });
    await assertNothingLeft(machines, 5_000);
  },
);
