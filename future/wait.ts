/**
 * `wait()`: block until some or all of a group of futures are done.
 *
 * @module
 */
import { failed, type Future, watch } from "./future.ts";
import { checkSignal, checkTimeout } from "./_timeout.ts";

// `as const`: a plain string constant's type widens to `string` in an array
// or an object literal, which `wait()` would refuse.

/** `wait()` returns when any future finishes or is cancelled. */
export const FIRST_COMPLETED = "FIRST_COMPLETED" as const;
/**
 * `wait()` returns when any future finishes with an exception, or when all
 * are done if none does.
 */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION" as const;
/** `wait()` returns when every future is done. */
export const ALL_COMPLETED = "ALL_COMPLETED" as const;

/** When `wait()` returns: one of the three constants. */
export type ReturnWhen =
  | typeof FIRST_COMPLETED
  | typeof FIRST_EXCEPTION
  | typeof ALL_COMPLETED;

/** The options of `wait()`. */
export interface WaitOptions {
  /**
   * Milliseconds to wait at most; `wait()` then returns what is done so far.
   * @default {undefined} wait forever
   */
  timeout?: number;
  /**
   * When to return.
   * @default {"ALL_COMPLETED"}
   */
  returnWhen?: ReturnWhen;
  /** Stops waiting: `wait()` rejects with the signal's `reason`. The
   * futures are untouched. */
  signal?: AbortSignal;
}

/** What `wait()` returns: the futures that are done and those that are not. */
export interface DoneAndNotDoneFutures<T> {
  /** Futures that finished or were cancelled. */
  done: Set<Future<T>>;
  /** Futures still pending or running. */
  notDone: Set<Future<T>>;
}

/**
 * Waits until the futures satisfy `returnWhen` or `timeout` ms pass. It
 * never rejects on timeout: it returns what is done by then. A future given
 * twice counts once; a cancelled future is done.
 *
 * @typeParam T The futures' result type.
 * @param futures The futures to wait for.
 * @param options `timeout` (ms), `returnWhen` and `signal`.
 * @returns The `done` and `notDone` sets.
 * @throws {RangeError} (as a rejection) For a negative or NaN `timeout` or
 * an unknown `returnWhen`.
 * @throws The signal's `reason` (as a rejection) once it aborts, unless the
 * condition was met first.
 *
 * @example Waiting for the first of three calls
 * ```ts
 * import {
 *   FIRST_COMPLETED,
 *   ThreadPoolExecutor,
 *   wait,
 * } from "@concurrent/futures";
 *
 * await using pool = new ThreadPoolExecutor();
 * const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms, ms));
 * const futures = [30, 1, 20].map((ms) => pool.submit(sleep, ms));
 * const { done, notDone } = await wait(futures, {
 *   returnWhen: FIRST_COMPLETED,
 * });
 * console.assert(done.size >= 1 && done.size + notDone.size === 3);
 * ```
 */
export async function wait<T>(
  futures: Iterable<Future<T>>,
  options: WaitOptions = {},
): Promise<DoneAndNotDoneFutures<T>> {
  const { timeout, returnWhen = ALL_COMPLETED, signal } = options;
  checkTimeout(timeout);
  checkSignal(signal);
  if (!CONDITIONS.has(returnWhen)) {
    throw new RangeError(`Invalid return condition: ${String(returnWhen)}`);
  }
  const done = new Set<Future<T>>();
  const notDone = new Set<Future<T>>();
  for (const future of futures) (future.done() ? done : notDone).add(future);

  const satisfied = (): boolean =>
    notDone.size === 0 ||
    (returnWhen === FIRST_COMPLETED && done.size > 0) ||
    (returnWhen === FIRST_EXCEPTION && [...done].some(failed));
  if (satisfied() || timeout === 0) return { done, notDone };
  signal?.throwIfAborted();

  const unwatches: (() => void)[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      for (const future of notDone) {
        unwatches.push(watch(future, () => {
          notDone.delete(future);
          done.add(future);
          // Only the newcomer can change the FIRST_EXCEPTION answer.
          if (
            notDone.size === 0 || returnWhen === FIRST_COMPLETED ||
            (returnWhen === FIRST_EXCEPTION && failed(future))
          ) resolve();
        }));
      }
      if (timeout !== undefined) timer = setTimeout(resolve, timeout);
      if (signal !== undefined) {
        onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort);
      }
    });
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort);
    for (const unwatch of unwatches) unwatch();
  }
  return { done, notDone };
}

const CONDITIONS: ReadonlySet<unknown> = new Set([
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  ALL_COMPLETED,
]);
