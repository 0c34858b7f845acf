/**
 * Whether a pool takes new work: open, shut down, or broken. Every pool
 * keeps one, so that they refuse work with the same errors in the same
 * order: the error that broke the pool first, then `ShutdownError`.
 *
 * @module
 */
import { ShutdownError } from "../future/errors.ts";

/** A pool's gate; see the module documentation. */
export class PoolGate {
  // Makes the pool's `Broken…` error once it is broken: every future and
  // every refused call gets its own, which any of them may change.
  #broken: (() => Error) | undefined;
  #shutDown = false;

  /** Whether the pool broke. */
  get broken(): boolean {
    return this.#broken !== undefined;
  }

  /** Whether `shutdown()` was called. */
  get shutDown(): boolean {
    return this.#shutDown;
  }

  /** Takes no more work. */
  shut(): void {
    this.#shutDown = true;
  }

  /**
   * Breaks the pool, once.
   *
   * @param error Makes the pool's `Broken…` error, afresh at each call.
   * @returns `false` when the pool was broken already.
   */
  break(error: () => Error): boolean {
    if (this.#broken !== undefined) return false;
    this.#broken = error;
    return true;
  }

  /** A new error of the pool's breaking, for one future or one caller.
   * Only once {@linkcode PoolGate.broken}. */
  brokenError(): Error {
    return this.#broken!();
  }

  /** Throws what a pool's `submit()` must throw now: the error that broke
   * the pool, or `ShutdownError` once it is shut down. */
  assertOpen(): void {
    if (this.#broken !== undefined) throw this.#broken();
    if (this.#shutDown) throw new ShutdownError();
  }
}
