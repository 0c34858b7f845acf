/**
 * The marker of `transfer(value, buffers)`: a value whose buffers move to
 * the other thread instead of being copied. The pool makes markers for
 * arguments, and a worker's tasks make them for results, so both sides of
 * the worker pool read this file.
 *
 * @module
 */

/**
 * The brand of a value wrapped by `transfer(value, buffers)`: a registered
 * symbol, so that a marker made by any copy of the library (in the parent,
 * or in a task's module inside a worker) is recognised.
 */
export const TRANSFER: unique symbol = Symbol.for(
  "@concurrent/futures/transfer",
);

/** A value to send with `buffers` moved rather than copied. */
export interface TransferMarker<T = unknown> {
  /** Always `true`: what marks the wrapper. */
  readonly [TRANSFER]: true;
  /** The value to send. */
  readonly value: T;
  /** The buffers, reachable from `value`, that move with it. */
  readonly buffers: readonly Transferable[];
}

/**
 * Whether `value` is a `transfer()` marker.
 *
 * @param value Any value.
 * @returns `true` for a marker.
 */
export function isTransfer(value: unknown): value is TransferMarker {
  return typeof value === "object" && value !== null &&
    (value as Partial<TransferMarker>)[TRANSFER] === true;
}
