/**
 * Where the worker entry modules are, in any layout the package is installed
 * in: the `.ts` sources (a checkout, or `jsr:` on Deno), or JSR's npm layout
 * for Bun and Node, where each module is transpiled to a `.js` file beside it.
 * That layout rewrites import specifiers but not URLs built at run time, so
 * the entries take the extension this module was loaded with.
 *
 * @module
 */

const EXTENSION = /\.[cm]?[jt]sx?$/.exec(new URL(import.meta.url).pathname)
  ?.[0] ?? ".js";

/**
 * The URL of a worker entry module, with this layout's extension.
 *
 * @param name The entry's file name in `workers/`, without extension.
 * @returns Its URL, e.g. `…/workers/process_worker.js` in the npm layout.
 */
export function workerEntry(name: "process_worker" | "web_worker"): URL {
  return new URL(`../workers/${name}${EXTENSION}`, import.meta.url);
}
