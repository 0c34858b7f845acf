/**
 * Runs a test script in a child process of its own, for the tests that need
 * a whole program: exit hygiene, a parent killed by SIGKILL, permissions.
 *
 * @module
 */
import { requireRuntime } from "../executor/_runtime.ts";
import type { ChildExit } from "../executor/_child_process.ts";
import { spawnFor } from "../executor/_spawn.ts";

/** A script started by {@linkcode runScript}. */
export interface Script {
  /** Its first line on stdout; rejects if it exits before writing one. */
  readonly line: Promise<string>;
  /** How it exited. */
  readonly exited: Promise<ChildExit>;
  /** Everything it wrote on stdout, once it exited. */
  readonly stdout: Promise<Uint8Array>;
  /** The last lines it wrote on stderr, once it exited. */
  readonly stderr: Promise<string>;
  /** Its stdout so far, once it matches `pattern`; rejects if it exits
   * before. */
  output(pattern: RegExp): Promise<string>;
  /** Ends it with SIGKILL. */
  kill(): void;
}

const spawn = await spawnFor(requireRuntime("the test scripts"));

/**
 * Starts `command`; a watchdog kills it after `deadlineMs`, so that a
 * script that hangs fails its test instead of the suite.
 *
 * @param command The command line.
 * @param env Variables added to the environment.
 * @param deadlineMs How long it may run.
 * @returns The running script.
 */
export function runScript(
  command: string[],
  env: Record<string, string>,
  deadlineMs: number,
): Script {
  const line = Promise.withResolvers<string>();
  const exited = Promise.withResolvers<ChildExit>();
  const decoder = new TextDecoder();
  let stdout = "";
  const chunks: Uint8Array[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  const child = spawn({
    command,
    env,
    onStdout(chunk): void {
      chunks.push(chunk);
      stdout += decoder.decode(chunk, { stream: true });
      if (stdout.includes("\n")) line.resolve(stdout.split("\n")[0]);
      for (const wake of waiters) wake();
    },
    onExit(exit): void {
      clearTimeout(watchdog);
      ended = true;
      line.reject(new Error(`the script exited: ${child.stderrTail()}`));
      exited.resolve(exit);
      for (const wake of waiters) wake();
    },
  });
  const output = (pattern: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (pattern.test(stdout)) resolve(stdout);
        else if (ended) reject(new Error(`the script exited: ${stdout}`));
        else return;
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const watchdog = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
  line.promise.catch(() => {});
  return {
    line: line.promise,
    exited: exited.promise,
    stdout: exited.promise.then(() => concat(chunks)),
    stderr: exited.promise.then(() => child.stderrTail()),
    output,
    kill: () => child.kill("SIGKILL"),
  };
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}
