/**
 * `asCompleted()`: iterate over futures in the order they complete.
 *
 * @module
 */
import { TimeoutError } from "./errors.ts";
import type { Future } from "./future.ts";
import { watch } from "./future.ts";
import { checkSignal, checkTimeout, remaining } from "./_timeout.ts";

/**
 * A future that `asCompleted()` yields: the very `Future` object, typed
 * without `then` so that `for await` hands you the future rather than
 * unwrapping it to its result.
 *
 * @typeParam T The future's result type.
 */
export type CompletedFuture<T> = Omit<Future<T>, "then" | "catch" | "finally">;

/** The options of `asCompleted()`. */
export interface AsCompletedOptions {
  /**
   * Milliseconds, counted from the call, after which iteration throws
   * `TimeoutError` if futures remain.
   * @default {undefined} wait forever
   */
  timeout?: number;
  /** Stops the iteration: it throws the signal's `reason`. The futures are
   * untouched. */
  signal?: AbortSignal;
}

/**
 * Yields each distinct future once, as it becomes done (finished or
 * cancelled): those already done first, in input order. Leaving the loop
 * early cancels nothing; the futures are the caller's.
 *
 * @typeParam T The futures' result type.
 * @param futures The futures to watch.
 * @param options `timeout` in ms, counted from this call, and `signal`.
 * @returns An async iterator of the futures themselves.
 * @throws {RangeError} At the call, for a negative or NaN `timeout`.
 * @throws {TimeoutError} From the iteration, `N (of M) futures unfinished`,
 * when `timeout` passes first.
 * @throws The signal's `reason`, from the iteration, once it aborts (at
 * the first step when it is aborted already).
 *
 * @example Handling results as they arrive
 * ```ts
 * import { asCompleted, ThreadPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new ThreadPoolExecutor();
 * const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms, ms));
 * const futures = [20, 1, 10].map((ms) => pool.submit(sleep, ms));
 * for await (const future of asCompleted(futures)) {
 *   console.log(await future.result());
 * }
 * ```
 */
export function asCompleted<T>(
  futures: Iterable<Future<T>>,
  options: AsCompletedOptions = {},
): AsyncIterableIterator<CompletedFuture<T>> {
  const { timeout, signal } = options;
  checkTimeout(timeout);
  checkSignal(signal);
  const deadline = timeout === undefined
    ? Infinity
    : performance.now() + timeout;
  return new CompletionIterator(new Set(futures), deadline, signal);
}

type Step<T> = IteratorResult<CompletedFuture<T>, undefined>;

interface Waiter<T> {
  resolve(step: Step<T>): void;
  reject(error: unknown): void;
}

/** The iterator behind `asCompleted()`: a queue fed by done callbacks. */
class CompletionIterator<T>
  implements AsyncIterableIterator<CompletedFuture<T>> {
  readonly #total: number;
  readonly #deadline: number;
  readonly #ready: Future<T>[] = [];
  #readAt = 0;
  #unfinished = 0;
  #unwatches: (() => void)[] = [];
  #waiters: Waiter<T>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #signal: AbortSignal | undefined;
  #abortReported = false;

  constructor(
    futures: Set<Future<T>>,
    deadline: number,
    signal: AbortSignal | undefined,
  ) {
    this.#total = futures.size;
    this.#deadline = deadline;
    this.#signal = signal;
    signal?.addEventListener("abort", this.#abort);
    for (const future of futures) {
      if (future.done()) this.#ready.push(future);
      else this.#unfinished++;
    }
    for (const future of futures) {
      if (!future.done()) {
        this.#unwatches.push(watch(future, (f) => this.#arrive(f)));
      }
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<Step<T>> {
    if (this.#signal?.aborted && !this.#abortReported) {
      this.#abortReported = true;
      this.#close();
      return Promise.reject(this.#signal.reason);
    }
    if (this.#readAt < this.#ready.length) {
      return Promise.resolve(this.#take());
    }
    if (this.#closed || this.#unfinished === 0) {
      this.#close();
      return Promise.resolve({ done: true, value: undefined });
    }
    if (remaining(this.#deadline) === 0) {
      const error = this.#timeoutError();
      this.#close();
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      if (this.#timer === undefined && this.#deadline !== Infinity) {
        this.#timer = setTimeout(
          () => this.#expire(),
          remaining(this.#deadline),
        );
      }
    });
  }

  return(): Promise<Step<T>> {
    this.#close();
    return Promise.resolve({ done: true, value: undefined });
  }

  #take(): Step<T> {
    const future = this.#ready[this.#readAt++];
    if (this.#readAt === this.#ready.length) {
      this.#ready.length = 0;
      this.#readAt = 0;
    }
    return { done: false, value: future };
  }

  #arrive(future: Future<T>): void {
    this.#unfinished--;
    this.#ready.push(future);
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(this.#take());
    if (this.#waiters.length === 0) this.#stopTimer();
  }

  #expire(): void {
    this.#timer = undefined;
    this.#fail(this.#timeoutError());
  }

  /** Ends the iteration: the pending `next()` calls reject with `error`. */
  #fail(error: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    this.#close();
    for (const waiter of waiters) waiter.reject(error);
  }

  /** Rejects a pending `next()` with the reason, or else the next one. */
  readonly #abort = (): void => {
    if (this.#waiters.length === 0) return this.#close();
    this.#abortReported = true;
    this.#fail(this.#signal!.reason);
  };

  #timeoutError(): TimeoutError {
    return new TimeoutError(
      `${this.#unfinished} (of ${this.#total}) futures unfinished`,
    );
  }

  #stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Unsubscribes from every future and ends every pending `next()`. */
  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimer();
    this.#signal?.removeEventListener("abort", this.#abort);
    for (const unwatch of this.#unwatches) unwatch();
    this.#unwatches = [];
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      waiter.resolve({ done: true, value: undefined });
    }
    this.#ready.length = 0;
  }
}
