/**
 * One test registry for both runtimes.
 *
 * Deno's `node:test` runs with its sanitizers switched off, so under Deno the
 * suite registers through `Deno.test`, whose op, resource and exit sanitizers
 * catch leaked timers, pipes and child processes. Bun has no sanitizers and
 * runs the same tests through `node:test`.
 *
 * @module
 */
import { test as nodeTest } from "node:test";

/** The body of a test: may be async. */
export type TestBody = () => void | Promise<void>;

/** Registers one test under both runtimes, with Deno's sanitizers on. */
export function test(name: string, body: TestBody): void {
  if (typeof Deno === "object") Deno.test(name, body);
  else nodeTest(name, body);
}
