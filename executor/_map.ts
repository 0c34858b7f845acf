/**
 * The iterator behind `Executor.map()`: zips the inputs, submits calls
 * (ahead of the consumer up to `buffersize`), and yields results in order.
 *
 * @module
 */
import type { Future } from "../future/future.ts";
import { checkSignal, checkTimeout, remaining } from "../future/_timeout.ts";
import { ArgsReader, type Inputs } from "./_map_inputs.ts";

/**
 * The outcomes of a batch of calls, without an array per call: `values[i]`
 * is the result of call `i`, unless `errors` holds an exception for `i`
 * (then `values[i]` is meaningless).
 *
 * @example
 * ```ts
 * import type { BatchValues } from "@concurrent/futures";
 *
 * const outcomes: BatchValues<number> = {
 *   values: [1, 0, 3],
 *   errors: new Map([[1, new RangeError("too small")]]),
 * };
 * ```
 */
export interface BatchValues<R> {
  /** One entry per call, in order: an array, or a `Float64Array` when
   * every result is a number (so they crossed from a worker in one copy). */
  readonly values: ArrayLike<R>;
  /** The exceptions of the calls that failed, by index, if any did. */
  readonly errors: ReadonlyMap<number, unknown> | undefined;
}

/** How the iterator reaches its executor. */
export interface MapSource<A extends unknown[], R> {
  /** Throws what `submit()` would throw now (shutdown, broken). */
  assertOpen(): void;
  submit(args: A): Future<R>;
  /** Present on executors that batch calls (`chunksize > 1`); takes the
   * calls' arguments by column, one array per parameter. */
  submitBatch: ((columns: unknown[][]) => Future<BatchValues<R>>) | undefined;
}

/** The validated options of one `map()` call. */
interface MapSettings {
  deadline: number;
  chunksize: number;
  buffersize: number;
  signal: AbortSignal | undefined;
}

/** The options of one `map()` call that the iterator reads. */
type IteratorOptions = {
  timeout?: number;
  chunksize?: number;
  buffersize?: number;
  signal?: AbortSignal;
};

/** A submitted call, or a batch of calls, waiting to be yielded. */
type Entry<R> =
  | { readonly batch: false; readonly future: Future<R> }
  | { readonly batch: true; readonly future: Future<BatchValues<R>> };

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
/** How long, in ms, a consumer may take results without the event loop
 * running; see `MapIterator#giveTurn()`. */
const TURN_MS = 1;

/** Yields `fn`'s results in input order; see `Executor.map()`. */
export class MapIterator<A extends unknown[], R>
  implements AsyncIterableIterator<R> {
  readonly #source: MapSource<A, R>;
  readonly #settings: MapSettings;
  readonly #args: ArgsReader;
  readonly #entries: Entry<R>[] = [];
  // The results of the batch being yielded, and the next one's index.
  #values: ArrayLike<R> = [];
  #errors: ReadonlyMap<number, unknown> | undefined;
  #valueAt = 0;
  // An input or submission error, thrown once the entries before it are out.
  #failure: { error: unknown } | undefined;
  #exhausted = false;
  #closed = false;
  #feeding = false;
  #arrival: PromiseWithResolvers<void> | undefined;
  #current: Entry<R> | undefined;
  #turn: Promise<unknown> = Promise.resolve();
  #outstanding = 0;
  /** When the consumer last let the event loop run; see `#giveTurn()`. */
  #turnAt = performance.now();
  /** The signal's reason once it aborted, until thrown. */
  #aborted: { reason: unknown } | undefined;

  constructor(
    source: MapSource<A, R>,
    inputs: Inputs,
    options: IteratorOptions,
  ) {
    this.#settings = settingsOf(options);
    this.#source = source;
    source.assertOpen();
    const { signal } = this.#settings;
    if (signal?.aborted) throw signal.reason;
    this.#args = ArgsReader.zip(inputs);
    signal?.addEventListener("abort", this.#onAbort);
    if (this.#args.sync) {
      // As in CPython, sync inputs are submitted during the call, so that a
      // submission error throws from `map()` itself.
      try {
        this.#feedSync();
      } catch (error) {
        this.#close();
        throw error;
      }
      if (this.#failure !== undefined) {
        this.#close();
        throw this.#failure.error;
      }
    } else {
      this.#feedAsync();
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<R, undefined>> {
    // The rest of a batch is served at once, outside the chain of steps: its
    // results are in, and `for await` asks for them one by one.
    if (this.#outstanding === 0 && this.#valueAt < this.#values.length) {
      try {
        return Promise.resolve(this.#nextOutcome());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    // Calls made without awaiting the previous one run one after another, so
    // that each gets the next result in order; `for await` never waits here.
    const step = this.#outstanding++ === 0
      ? this.#step()
      : this.#turn.then(() => this.#step(), () => this.#step());
    this.#turn = step;
    return step;
  }

  return(): Promise<IteratorResult<R, undefined>> {
    this.#close();
    return Promise.resolve(DONE);
  }

  async #step(): Promise<IteratorResult<R, undefined>> {
    try {
      if (this.#valueAt < this.#values.length) return this.#nextOutcome();
      while (this.#entries.length === 0) {
        this.#throwIfAborted();
        if (this.#closed) return DONE;
        if (this.#failure !== undefined) {
          this.#close();
          throw this.#failure.error;
        }
        if (this.#exhausted) {
          this.#close();
          return DONE;
        }
        this.#arrival ??= Promise.withResolvers();
        await this.#arrival.promise;
      }
      const entry = this.#entries.shift()!;
      this.#current = entry;
      this.#refill();
      const waits = !entry.future.done();
      if (!waits && performance.now() - this.#turnAt >= TURN_MS) {
        await this.#giveTurn();
      }
      const { deadline } = this.#settings;
      let result: R | BatchValues<R>;
      try {
        result = deadline === Infinity
          ? await entry.future
          : await entry.future.result(remaining(deadline));
      } catch (error) {
        entry.future.cancel();
        this.#close();
        this.#throwIfAborted();
        throw error;
      }
      if (waits) this.#turnAt = performance.now();
      this.#throwIfAborted();
      if (!entry.batch) return { done: false, value: result as R };
      const batch = result as BatchValues<R>;
      this.#values = batch.values;
      this.#errors = batch.errors;
      this.#valueAt = 0;
      return this.#nextOutcome();
    } finally {
      this.#current = undefined;
      this.#outstanding--;
    }
  }

  /**
   * Lets the event loop run, as it must once `TURN_MS` passed without a
   * wait: results that are in are served in microtasks only, and while a
   * consumer takes them the pool reads no answers and sends its workers
   * nothing, so they would run dry before the consumer is done.
   */
  async #giveTurn(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.#turnAt = performance.now();
  }

  #nextOutcome(): IteratorResult<R, undefined> {
    const at = this.#valueAt++;
    const errors = this.#errors;
    if (errors === undefined || !errors.has(at)) {
      return { done: false, value: this.#values[at] };
    }
    const error = errors.get(at);
    this.#close();
    throw error;
  }

  /** Tops the entries back up to `buffersize` after one was taken. */
  #refill(): void {
    if (this.#exhausted || this.#closed) return;
    if (this.#args.sync) {
      try {
        this.#feedSync();
      } catch (error) {
        this.#failure ??= { error };
      }
    } else if (!this.#feeding) {
      this.#feedAsync();
    }
  }

  #feedSync(): void {
    while (this.#wantsMore()) {
      const columns = this.#args.readSync(this.#groupSize());
      const size = columns[0]?.length ?? 0;
      if (size > 0) this.#submit(columns);
      if (size < this.#groupSize()) this.#exhausted = true;
    }
  }

  /** Pulls async inputs in the background, waking the consumer per entry. */
  async #feedAsync(): Promise<void> {
    this.#feeding = true;
    try {
      while (this.#wantsMore()) {
        const columns = await this.#args.read(this.#groupSize());
        if (this.#closed) return;
        const size = columns[0]?.length ?? 0;
        if (size > 0) this.#submit(columns);
        if (size < this.#groupSize()) this.#exhausted = true;
        this.#wake();
      }
    } catch (error) {
      this.#failure ??= { error };
    } finally {
      this.#feeding = false;
      this.#wake();
    }
  }

  #wake(): void {
    const arrival = this.#arrival;
    this.#arrival = undefined;
    arrival?.resolve();
  }

  #wantsMore(): boolean {
    return !this.#exhausted && !this.#closed && this.#failure === undefined &&
      this.#entries.length < this.#settings.buffersize;
  }

  #groupSize(): number {
    return this.#source.submitBatch === undefined
      ? 1
      : this.#settings.chunksize;
  }

  /** Submits the calls of `columns`: one, or a batch. */
  #submit(columns: unknown[][]): void {
    const { submit, submitBatch } = this.#source;
    try {
      this.#entries.push(
        submitBatch === undefined || this.#settings.chunksize === 1
          ? { batch: false, future: submit(columns.map((c) => c[0]) as A) }
          : { batch: true, future: submitBatch(columns) },
      );
    } catch (error) {
      this.#failure = { error };
    }
  }

  readonly #onAbort = (): void => {
    this.#aborted = { reason: this.#settings.signal!.reason };
    this.#close();
  };

  /** Throws the signal's reason, once, after it aborted. */
  #throwIfAborted(): void {
    const aborted = this.#aborted;
    if (aborted === undefined) return;
    this.#aborted = undefined;
    throw aborted.reason;
  }

  /** Cancels every call that has not started and closes the inputs. */
  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#settings.signal?.removeEventListener("abort", this.#onAbort);
    this.#current?.future.cancel();
    for (const entry of this.#entries) entry.future.cancel();
    this.#entries.length = 0;
    this.#wake();
    this.#values = [];
    this.#errors = undefined;
    this.#args.close();
  }
}

function settingsOf(options: IteratorOptions): MapSettings {
  const { timeout, chunksize = 1, buffersize, signal } = options;
  checkSignal(signal);
  if (buffersize !== undefined && !Number.isInteger(buffersize)) {
    throw new TypeError("buffersize must be an integer or undefined");
  }
  if (buffersize !== undefined && buffersize < 1) {
    throw new RangeError("buffersize must be undefined or > 0");
  }
  if (!Number.isInteger(chunksize)) {
    throw new TypeError("chunksize must be an integer");
  }
  if (chunksize < 1) throw new RangeError("chunksize must be >= 1");
  checkTimeout(timeout);
  return {
    deadline: timeout === undefined ? Infinity : performance.now() + timeout,
    chunksize,
    buffersize: buffersize ?? Infinity,
    signal,
  };
}
