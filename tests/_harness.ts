/**
 * One test registry for Deno, Bun and Node.
 *
 * Deno's `node:test` runs with its sanitizers switched off, so under Deno the
 * suite registers through `Deno.test`, whose op, resource and exit sanitizers
 * catch leaked timers, pipes and child processes. Bun and Node have no
 * sanitizers and run the same tests through `node:test`.
 *
 * Also the helpers the test files share: `rejection()`,
 * `assertOwnErrors()`, `untilRunning()` and `missingPrograms()`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import process from "node:process";
import { test as nodeTest } from "node:test";
import type { Future } from "../mod.ts";

/** The body of a test: may be async. */
export type TestBody = () => void | Promise<void>;

/**
 * Registers one test under every runtime, with Deno's sanitizers on.
 *
 * @param name What the test checks.
 * @param body The test.
 * @param skip Why it cannot run on this machine (a tool is missing): then
 * it is reported as skipped, with the reason in its name.
 */
export function test(name: string, body: TestBody, skip?: string): void {
  const shown = skip === undefined ? name : `${name} (skipped: ${skip})`;
  if (typeof Deno === "object") {
    Deno.test({ name: shown, fn: body, ignore: skip !== undefined });
  } else nodeTest(shown, { skip: skip !== undefined }, body);
}

/** The reason `promise` rejects with, falsy ones included; fails if it
 * fulfils. */
export async function rejection(
  promise: PromiseLike<unknown>,
): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (reason) {
    return reason;
  }
  assert.fail(`expected a rejection, got ${String(value)}`);
}

/** Asserts that `errors` are distinct objects of one class with one message
 * and one cause: what a broken pool hands each of its futures. */
export function assertOwnErrors(errors: readonly unknown[]): void {
  assert.ok(errors.length > 1, "needs two errors or more to compare");
  assert.equal(new Set(errors).size, errors.length, "an error is shared");
  const [first, ...others] = errors as Error[];
  assert.ok(first instanceof Error);
  for (const error of others) {
    assert.equal(error.constructor, first.constructor);
    assert.equal(error.message, first.message);
    assert.equal(error.cause, first.cause);
  }
}

/** Waits until `future` is RUNNING: no event says so, so this looks once
 * per turn of the event loop, after the pool's queued work moved. */
export async function untilRunning(future: Future<unknown>): Promise<void> {
  while (!future.running()) {
    assert.ok(!future.done(), "the future finished before it ran");
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** The runtimes, with the oldest major version of each that is supported. */
export const RUNTIMES = { deno: 2, bun: 1, node: 22 } as const;

/**
 * Why a test that runs other programs cannot run here: those of `programs`
 * that are not on `PATH`, or older than the major version given. Under CI,
 * whose `.ci/run` installs them all, a missing one throws instead.
 *
 * @param programs The oldest major version of each program; 0 for any.
 * @returns The reason to skip, or `undefined` when all of them are there.
 */
export function missingPrograms(
  programs: Record<string, number>,
): string | undefined {
  const absent = Object.entries(programs).filter(([program, major]) => {
    try {
      const output = execFileSync(program, ["--version"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      return Number(/(\d+)\.\d+\.\d+/.exec(output)?.[1] ?? -1) < major;
    } catch {
      return true;
    }
  }).map(([program, major]) => major > 0 ? `${program} ${major}+` : program);
  if (absent.length === 0) return undefined;
  const reason = `${absent.join(" and ")} not on PATH`;
  if (process.env.CI) throw new Error(`under CI, ${reason}`);
  return reason;
}
