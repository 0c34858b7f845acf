/**
 * Validation of the `timeout` and `signal` options shared by every waiting
 * function.
 *
 * @module
 */

/**
 * Throws when `timeout` is not `undefined` (wait forever) or a number of
 * milliseconds `>= 0`.
 */
export function checkTimeout(timeout: unknown): void {
  if (timeout === undefined) return;
  if (typeof timeout !== "number") {
    throw new TypeError(
      `timeout must be a number of milliseconds or undefined, got ${typeof timeout}`,
    );
  }
  if (!(timeout >= 0)) {
    throw new RangeError(
      `timeout must be a number of milliseconds >= 0 or undefined, got ${timeout}`,
    );
  }
}

/** Milliseconds left until `deadline` (a `performance.now()` value), never negative. */
export function remaining(deadline: number): number {
  return Math.max(0, deadline - performance.now());
}

/** Throws unless `signal` is `undefined` or an `AbortSignal`. */
export function checkSignal(signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("signal must be an AbortSignal or undefined");
  }
}
