/**
 * The bare Web Worker of `w3_w5_worker.ts`, the floor of W3, W4 and W5:
 * answers `{ x }` with `x + 2` and `{ fib }` with `fib(n)`, no futures, no
 * dispatch, no error handling.
 *
 * @module
 */
import type { WorkerScope } from "../workers/_web_protocol.ts";

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

// Node's worker threads get the scope the pool's workers get there.
const scope: WorkerScope =
  typeof (globalThis as { postMessage?: unknown }).postMessage === "function"
    ? globalThis as unknown as WorkerScope
    : (await import("../workers/_node_scope.ts")).nodeScope();
scope.onmessage = (event) => {
  const message = event.data as { x?: number; fib?: number };
  scope.postMessage(
    message.fib === undefined ? message.x! + 2 : fib(message.fib),
  );
};
