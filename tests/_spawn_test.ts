import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { missingPrograms, RUNTIMES, test } from "./_harness.ts";
import { currentRuntime, type RuntimeName } from "../workers/_runtime.ts";
import { requireRuntime } from "../executor/_runtime.ts";
import type {
  ChildExit,
  ChildProcess,
  SpawnOptions,
} from "../executor/_child_process.ts";
import { filePath } from "../executor/_file_path.ts";
import { spawnFor } from "../executor/_spawn.ts";
import { workerCommand } from "../executor/_worker_command.ts";

const runtime = requireRuntime("the spawn tests");
const otherRuntime = runtime === "deno" ? "bun" : "deno";
const spawn = await spawnFor(runtime);
const fixture = (name: string): URL =>
  new URL(`./fixtures/${name}`, import.meta.url);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A child whose output is collected, stopped by SIGKILL if it outlives a
 * watchdog (a hung child must fail its test, not hang the suite). */
interface Run {
  readonly child: ChildProcess;
  readonly exited: Promise<ChildExit>;
  /** Resolves once stdout holds `bytes` bytes; rejects if the child exits
   * first. */
  stdoutAt(bytes: number): Promise<Uint8Array>;
  /** Resolves once stdout holds a line matching `pattern`; rejects if the
   * child exits first. */
  line(pattern: RegExp): Promise<string>;
  /** Everything the child wrote to stdout so far. */
  stdout(): Uint8Array;
}

function run(
  command: readonly string[],
  options: Partial<SpawnOptions> = {},
  watchdogMs = 30_000,
): Run {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let finished = false;
  const waiters = new Set<() => void>();
  const { promise: exited, resolve } = Promise.withResolvers<ChildExit>();
  const stdout = (): Uint8Array => {
    const all = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return all;
  };
  const when = <T>(ready: () => T | undefined): Promise<T> =>
    new Promise((done, fail) => {
      const check = (): void => {
        const value = ready();
        if (value !== undefined) done(value);
        else if (finished) {
          fail(new Error(`child exited; stdout: ${decoder.decode(stdout())}`));
        } else return;
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const child = spawn({
    ...options,
    command,
    onStdout(chunk): void {
      chunks.push(chunk);
      size += chunk.length;
      for (const check of waiters) check();
    },
    onExit(exit): void {
      finished = true;
      clearTimeout(watchdog);
      resolve(exit);
      for (const check of waiters) check();
    },
  });
  const watchdog = setTimeout(() => child.kill("SIGKILL"), watchdogMs);
  return {
    child,
    exited,
    stdout,
    stdoutAt: (bytes) => when(() => (size >= bytes ? stdout() : undefined)),
    line: (pattern) =>
      when(() =>
        decoder.decode(stdout()).split("\n").find((line) => pattern.test(line))
      ),
  };
}

/** Whether `pid` is a live process (a zombie left to an init that does not
 * reap counts as gone). */
function isRunning(pid: number): boolean {
  if (existsSync("/proc/self/stat")) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return !"ZX".includes(stat[stat.lastIndexOf(")") + 2]);
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Checks, up to a deadline, that `pid` has gone. Not synchronisation: the
 * events (parent gone) have happened; this bounds how long the child may
 * take to notice. */
async function assertGoneWithin(pid: number, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (isRunning(pid) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(
    isRunning(pid),
    false,
    `process ${pid} still runs after ${ms} ms`,
  );
}

/** Whether `program` can be started here. */
function pattern(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const chunk = new Uint8Array(1 + (i * 7919) % 3000);
    for (let j = 0; j < chunk.length; j++) chunk[j] = (i + j) & 0xff;
    return chunk;
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

async function assertEchoes(command: string[]): Promise<void> {
  const chunks = [...pattern(500), new Uint8Array(4 << 20).fill(7)];
  const sent = concat(chunks);
  const echo = run(command);
  for (const chunk of chunks) echo.child.write(chunk);
  assert.deepEqual(await echo.stdoutAt(sent.length), sent);
  echo.child.closeStdin();
  assert.deepEqual(await echo.exited, { code: 0, signal: null });
}

test("spawn() echoes many chunks back in order", async () => {
  await assertEchoes(workerCommand(runtime, fixture("echo_worker.ts")));
});

test("spawn() throws an error naming a program it cannot start", () => {
  assert.throws(
    () =>
      spawn({ command: ["no-such-program-here"], onStdout() {}, onExit() {} }),
    /^Error: cannot start no-such-program-here: /,
  );
});

test("ChildProcess.closeStdin() makes the echo worker exit 0", async () => {
  const echo = run(workerCommand(runtime, fixture("echo_worker.ts")));
  echo.child.write(encoder.encode("last words"));
  echo.child.closeStdin();
  assert.deepEqual(await echo.exited, { code: 0, signal: null });
  assert.equal(decoder.decode(echo.stdout()), "last words");
});

test("ChildProcess.kill() ends the child, and onExit names the signal", async () => {
  const echo = run(workerCommand(runtime, fixture("echo_worker.ts")));
  echo.child.write(encoder.encode("ping"));
  await echo.stdoutAt(4);
  echo.child.kill("SIGKILL");
  // Writes to a dying child are dropped: no throw, no unhandled rejection.
  echo.child.write(new Uint8Array(1 << 20));
  assert.deepEqual(await echo.exited, { code: null, signal: "SIGKILL" });
  echo.child.write(encoder.encode("too late"));
  echo.child.closeStdin();
  echo.child.kill("SIGTERM");
});

test("ChildProcess.stderrTail() holds the last 20 lines once onExit runs", async () => {
  const worker = run(workerCommand(runtime, fixture("stderr_worker.ts")));
  assert.deepEqual(await worker.exited, { code: 3, signal: null });
  const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 11}`);
  assert.equal(worker.child.stderrTail(), lines.join("\n"));
});

test("openStdio() moves console output to stderr, leaving stdout to frames", async () => {
  const worker = run(workerCommand(runtime, fixture("console_worker.ts")));
  assert.deepEqual(await worker.exited, { code: 0, signal: null });
  assert.equal(decoder.decode(worker.stdout()), "done");
  const tail = worker.child.stderrTail();
  for (
    const marker of [
      "count-marker: 1",
      "dirxml-marker",
      "debug-marker",
      "info-marker",
      "log-marker",
    ]
  ) {
    assert.match(tail, new RegExp(marker));
  }
});

test("ChildProcess.unref() lets the parent exit, and the idle child then exits", async () => {
  const parent = run(workerCommand(runtime, fixture("spawn_parent.ts")), {
    env: { MODE: "unref" },
  });
  const pid = Number((await parent.line(/^pid \d+$/)).slice(4));
  assert.deepEqual(await parent.exited, { code: 0, signal: null });
  await assertGoneWithin(pid, 2_000);
});

test("ChildProcess.ref() keeps the parent alive while work is in flight", async () => {
  const parent = run(workerCommand(runtime, fixture("spawn_parent.ts")), {
    env: { MODE: "ref" },
  });
  assert.deepEqual(await parent.exited, { code: 0, signal: null });
  const lines = decoder.decode(parent.stdout()).trim().split("\n");
  assert.deepEqual(lines, [
    "echoed",
    JSON.stringify({ exit: { code: 0, signal: null }, tail: "" }),
  ]);
});

test("a worker exits soon after its parent is killed with SIGKILL", async () => {
  const parent = run(workerCommand(runtime, fixture("spawn_parent.ts")), {
    env: { MODE: "hold" },
  });
  const pid = Number((await parent.line(/^pid \d+$/)).slice(4));
  assert.equal(isRunning(pid), true);
  parent.child.kill("SIGKILL");
  assert.deepEqual(await parent.exited, { code: null, signal: "SIGKILL" });
  await assertGoneWithin(pid, 2_000);
});

test("spawn() forwards the child's stderr to the parent's stderr", async () => {
  const parent = run(workerCommand(runtime, fixture("spawn_parent.ts")), {
    env: { MODE: "forward" },
  });
  assert.deepEqual(await parent.exited, { code: 0, signal: null });
  const report = JSON.parse(decoder.decode(parent.stdout()));
  assert.deepEqual(report.exit, { code: 3, signal: null });
  assert.match(report.tail, /^line 11\n.*\nline 30$/s);
  // What the child wrote reached the fixture parent's own stderr.
  assert.match(parent.child.stderrTail(), /line 29\nline 30$/);
});

for (const other of Object.keys(RUNTIMES) as RuntimeName[]) {
  if (other === runtime) continue;
  test(`workerCommand() runs a worker on ${other}`, async () => {
    const command = workerCommand(other, fixture("echo_worker.ts"));
    await assertEchoes(command);
  }, missingPrograms({ [other]: RUNTIMES[other] }));
}

test("workerCommand() starts workers whatever deno.json or package.json the cwd holds", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spawn-cwd-"));
  try {
    writeFileSync(join(dir, "deno.json"), '{ "imports": ');
    writeFileSync(join(dir, "package.json"), '{ "type": "commonjs", ');
    const echo = run(workerCommand(runtime, fixture("echo_worker.ts")), {
      cwd: dir,
    });
    echo.child.write(encoder.encode("ok"));
    echo.child.closeStdin();
    assert.deepEqual(await echo.exited, { code: 0, signal: null });
    assert.equal(decoder.decode(echo.stdout()), "ok");
  } finally {
    rmSync(dir, { recursive: true });
  }
});

/** Runs a Deno parent `main.ts` in a temporary directory holding a config
 * (at `config`) that maps the import "answer", with `flags` on its command
 * line; the parent starts a worker that imports a module using the map. */
async function assertWorkerUsesConfig(
  config: string,
  flags: (dir: string) => string[],
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "spawn-config-"));
  try {
    mkdirSync(dirname(join(dir, config)), { recursive: true });
    writeFileSync(
      join(dir, config),
      `{ "imports": { "answer": "${dir}/answer.ts" } }`,
    );
    writeFileSync(join(dir, "answer.ts"), "export default 42;\n");
    writeFileSync(
      join(dir, "task.ts"),
      'export { default as answer } from "answer";\n',
    );
    const spawnUrl = new URL("../executor/_spawn.ts", import.meta.url);
    const commandUrl = new URL(
      "../executor/_worker_command.ts",
      import.meta.url,
    );
    writeFileSync(
      join(dir, "main.ts"),
      `import { spawnFor } from "${spawnUrl}";
import { workerCommand } from "${commandUrl}";
const spawn = await spawnFor("deno");
const child = spawn({
  command: workerCommand("deno", new URL("${fixture("import_worker.ts")}")),
  onStdout: (chunk) => console.log(new TextDecoder().decode(chunk)),
  onExit: () => {},
});
child.write(new TextEncoder().encode(new URL("./task.ts", import.meta.url).href));
`,
    );
    const main = run([
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      ...flags(dir),
      join(dir, "main.ts"),
    ]);
    assert.deepEqual(await main.exited, { code: 0, signal: null });
    assert.equal(decoder.decode(main.stdout()), "42\n");
  } finally {
    rmSync(dir, { recursive: true });
  }
}

test("workerCommand() resolves a Deno worker's imports with the deno.json of the parent's main module", async () => {
  if (runtime !== "deno") return; // Deno config files concern Deno parents
  await assertWorkerUsesConfig("deno.json", () => []);
});

test("workerCommand() resolves a Deno worker's imports with the parent's --config", async () => {
  if (runtime !== "deno") return;
  await assertWorkerUsesConfig(
    "conf/custom.json",
    (dir) => [`--config=${join(dir, "conf/custom.json")}`],
  );
});

test("workerCommand() runs Deno workers quietly, without prompts or lockfile", () => {
  const entry = fixture("echo_worker.ts");
  const argv = workerCommand("deno", entry, "none");
  assert.deepEqual(argv.slice(1, 5), [
    "run",
    "--quiet",
    "--no-prompt",
    "--no-lock",
  ]);
  assert.match(argv[5], /^--no-config$|^--config=.*deno\.jsonc?$/);
  assert.deepEqual(argv.slice(6), [entry.href]);
  assert.deepEqual(workerCommand("bun", entry).slice(1), [
    "run",
    filePath(entry),
  ]);
});

test("workerCommand() refuses a Bun worker whose entry is not a local file", () => {
  assert.throws(
    () => workerCommand("bun", new URL("https://jsr.io/x/worker.ts")),
    /^Error: bun workers need a local entry file, not https:\/\/jsr\.io\/x\/worker\.ts$/,
  );
});

test("spawnFor() refuses to spawn with a runtime this process does not run on", async () => {
  await assert.rejects(
    spawnFor(otherRuntime),
    /^Error: cannot start subprocesses with /,
  );
  assert.equal(currentRuntime, runtime);
});
