/**
 * The bare Web Worker of `w3_w5_worker.ts`, the floor of W3, W4 and W5:
 * answers `{ x }` with `x + 2` and `{ fib }` with `fib(n)`, no futures, no
 * dispatch, no error handling.
 *
 * @module
 */

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

const scope = globalThis as unknown as {
  onmessage: (event: MessageEvent) => void;
  postMessage(message: unknown): void;
};
scope.onmessage = (event) => {
  const message = event.data as { x?: number; fib?: number };
  scope.postMessage(
    message.fib === undefined ? message.x! + 2 : fib(message.fib),
  );
};
