/**
 * Which runtime this code runs on, detected once: the one check that both
 * sides use, the pool (which spawn adapter, which `Worker`) and its workers
 * (which stdio, which worker scope). Importing it never throws, whatever
 * the runtime.
 *
 * @module
 */

/** A runtime that can run worker subprocesses. */
export type RuntimeName = "deno" | "bun" | "node";

/** The oldest Node major version supported: the oldest line that Node still
 * maintains. */
export const NODE_MAJOR = 22;

interface MaybeRuntimes {
  readonly Bun?: unknown;
  readonly Deno?: { readonly Command?: unknown };
  readonly process?: { readonly versions?: { readonly node?: string } };
}

function detect(): RuntimeName | undefined {
  const globals = globalThis as MaybeRuntimes;
  // Bun first: a `Deno` shim can be installed on Bun, never the reverse;
  // Node last, since both others report a `process.versions.node` too.
  if (typeof globals.Bun === "object" && globals.Bun !== null) return "bun";
  if (typeof globals.Deno?.Command === "function") return "deno";
  const node = globals.process?.versions?.node;
  if (node !== undefined && Number(node.split(".")[0]) >= NODE_MAJOR) {
    return "node";
  }
  return undefined;
}

/** The runtime this code runs on, or `undefined` when it is none of Deno,
 * Bun and Node 22 or later. */
export const currentRuntime: RuntimeName | undefined = detect();
