/**
 * The limits of one call of `run()`: a timeout counted from the moment the
 * call starts running, and an `AbortSignal`. Either ends the call through
 * the pool's own `interrupt`, which knows what stopping the work means
 * there: cancelling a queued call, freeing a slot, or replacing a worker.
 *
 * @module
 */
import { TimeoutError } from "../future/errors.ts";
import { Future } from "../future/future.ts";
import { checkSignal, checkTimeout } from "../future/_timeout.ts";
import { describe } from "./_options.ts";

/** The options of `Executor.run()`. */
export interface RunOptions {
  /**
   * Milliseconds the call may run, counted from when it starts (not from
   * when it is queued). When they pass, the future fails with
   * `TimeoutError` and the pool stops the call: a process or worker pool
   * ends the worker running it and starts another.
   * @default {undefined} no limit
   */
  timeout?: number;
  /**
   * Aborts the call: a queued call is cancelled; a running one fails with
   * the signal's `reason` and is stopped as on a timeout.
   */
  signal?: AbortSignal;
}

/** Which method a call came through, for its error messages. */
export type CallMethod = "submit" | "run";

/**
 * The future of one call of `submit()` or `run()`: the call is checked,
 * then handed to `accept`, which queues it. A bad argument, or one that
 * `accept` refuses by throwing (before it queues anything), fails this
 * future only.
 *
 * @param method The method the call came through.
 * @param fn What the caller passed as the function.
 * @param args What the caller passed as the argument list.
 * @param options What the caller of `run()` passed as options.
 * @param accept Queues the checked call with its limits, if any: a method
 * of the pool, so that a call allocates no closure.
 * @returns The call's future.
 */
export function newCall<T>(
  method: CallMethod,
  fn: unknown,
  args: unknown,
  options: unknown,
  accept: (
    future: Future<unknown>,
    fn: (...args: never[]) => unknown,
    args: unknown[],
    limits: RunOptions | undefined,
  ) => void,
): Future<T> {
  const future = new Future<T>();
  try {
    const limits = checkCall(method, fn, args, options);
    accept(
      future as Future<unknown>,
      fn as (...args: never[]) => unknown,
      args as unknown[],
      limits,
    );
  } catch (error) {
    future.setException(error);
  }
  return future;
}

/**
 * Checks a call of `submit()` or `run()`.
 *
 * @param method The method the call came through.
 * @param fn What the caller passed as the function.
 * @param args What the caller passed as the argument list.
 * @param options What the caller of `run()` passed as options.
 * @returns The limits the call sets, if any.
 * @throws {TypeError} For a `fn` that is not a function; see
 * {@linkcode checkRun} for the rest.
 */
function checkCall(
  method: CallMethod,
  fn: unknown,
  args: unknown,
  options: unknown,
): RunOptions | undefined {
  if (typeof fn !== "function") {
    throw new TypeError(
      `${method}() needs a function to call, got ${describe(fn)}`,
    );
  }
  return method === "submit" ? undefined : checkRun(args, options);
}

/**
 * Checks the arguments and options of `run()`.
 *
 * @param args What the caller passed as the argument list.
 * @param options What the caller passed as options.
 * @returns The options, or `undefined` when they set no limit.
 * @throws {TypeError} For arguments that are not an array, options that
 * are not an object, a `timeout` that is not a number or a `signal` that is
 * not an `AbortSignal`.
 * @throws {RangeError} For a negative or NaN `timeout`.
 */
export function checkRun(
  args: unknown,
  options: unknown,
): RunOptions | undefined {
  if (!Array.isArray(args)) {
    throw new TypeError(
      `run() takes the function's arguments as an array, got ${
        describe(args)
      }: run(fn, [a, b]) calls fn(a, b)`,
    );
  }
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `run() options must be an object, got ${describe(options)}`,
    );
  }
  const { timeout, signal } = options as RunOptions;
  checkTimeout(timeout);
  checkSignal(signal);
  return timeout === undefined && signal === undefined ? undefined : options;
}

/**
 * Watches the limits of a call that is about to be queued.
 *
 * @param future The call's future.
 * @param limits Its limits, checked.
 * @param interrupt Ends the call; see {@linkcode CallLimits}.
 * @returns The watch, or `undefined` when the signal had aborted already
 * (the call is interrupted, and must not be queued).
 */
export function watchLimits(
  future: Future<unknown>,
  limits: RunOptions,
  interrupt: (reason: unknown) => void,
): CallLimits | undefined {
  const watch = new CallLimits(future, limits, interrupt);
  return future.done() ? undefined : watch;
}

/**
 * Watches one call's limits until its future is done.
 *
 * `interrupt(reason)` is called at most once, when the signal aborts or the
 * timeout passes while the future is not done; a signal aborted already
 * interrupts at once, from the constructor.
 */
export class CallLimits {
  readonly #future: Future<unknown>;
  readonly #timeout: number | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #interrupt: (reason: unknown) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #started = false;

  constructor(
    future: Future<unknown>,
    options: RunOptions,
    interrupt: (reason: unknown) => void,
  ) {
    this.#future = future;
    this.#timeout = options.timeout;
    this.#signal = options.signal;
    this.#interrupt = interrupt;
    if (this.#signal?.aborted) {
      interrupt(this.#signal.reason);
      return;
    }
    this.#signal?.addEventListener("abort", this.#onAbort);
    future.addDoneCallback(() => this.#dispose());
  }

  /** The call started running: its timeout starts counting. Only the first
   * call counts. */
  started(): void {
    if (this.#started || this.#timeout === undefined) return;
    this.#started = true;
    if (this.#future.done()) return;
    const timeout = this.#timeout;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#end(
        new TimeoutError(
          `the call ran longer than its timeout of ${timeout} ms`,
        ),
      );
    }, timeout);
  }

  readonly #onAbort = (): void => this.#end(this.#signal!.reason);

  #end(reason: unknown): void {
    if (this.#future.done()) return;
    this.#dispose();
    this.#interrupt(reason);
  }

  #dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}
