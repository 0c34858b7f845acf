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
  const child = spawn({
    command,
    env,
    onStdout(chunk): void {
      stdout += decoder.decode(chunk, { stream: true });
      if (stdout.includes("\n")) line.resolve(stdout.split("\n")[0]);
    },
    onExit(exit): void {
      clearTimeout(watchdog);
      line.reject(new Error(`the script exited: ${child.stderrTail()}`));
      exited.resolve(exit);
    },
  });
  const watchdog = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
  line.promise.catch(() => {});
  return {
    line: line.promise,
    exited: exited.promise,
    kill: () => child.kill("SIGKILL"),
  };
}
