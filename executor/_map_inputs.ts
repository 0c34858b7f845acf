/**
 * The inputs of `Executor.map()`, zipped as Python's `zip()` zips them:
 * read in groups of calls' arguments, by column, stopping at the shortest.
 *
 * @module
 */

/** What `map()` takes after `fn`: sync or async iterables. */
export type Inputs = readonly (Iterable<unknown> | AsyncIterable<unknown>)[];

/** Reads argument tuples from zipped inputs, stopping at the shortest. */
export class ArgsReader {
  readonly sync: boolean;
  readonly #iterators: (Iterator<unknown> | AsyncIterator<unknown>)[];
  /** The inputs, when all are plain arrays: read by index, from
   * `#position`, without an iterator result per item. */
  readonly #arrays: readonly (readonly unknown[])[] | undefined;
  #position = 0;
  #done = false;

  private constructor(
    iterators: (Iterator<unknown> | AsyncIterator<unknown>)[],
    sync: boolean,
    arrays?: readonly (readonly unknown[])[],
  ) {
    this.#iterators = iterators;
    this.sync = sync;
    this.#arrays = arrays;
    // As Python's `zip()`, no inputs at all give no calls (not endless ones).
    this.#done = iterators.length === 0 && arrays === undefined;
  }

  static zip(inputs: Inputs): ArgsReader {
    if (inputs.length > 0 && inputs.every(isPlainArray)) {
      return new ArgsReader([], true, inputs as readonly unknown[][]);
    }
    let sync = true;
    const iterators = inputs.map((input, i) => {
      if (
        input != null &&
        typeof (input as Iterable<unknown>)[Symbol.iterator] === "function"
      ) {
        return (input as Iterable<unknown>)[Symbol.iterator]();
      }
      if (
        input != null &&
        typeof (input as AsyncIterable<unknown>)[Symbol.asyncIterator] ===
          "function"
      ) {
        sync = false;
        return (input as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      }
      throw new TypeError(
        `map() input ${i + 1} must be an iterable or an async iterable`,
      );
    });
    return new ArgsReader(iterators, sync);
  }

  /**
   * Up to `count` calls' arguments, by column: one array per input, all as
   * long; shorter than `count` means the inputs are exhausted. A batch
   * crosses to a worker as its columns: a batch of calls of one argument is
   * one flat array, with no array per call.
   */
  readSync(count: number): unknown[][] {
    if (this.#arrays !== undefined) return this.#sliceArrays(count);
    const iterators = this.#iterators as Iterator<unknown>[];
    const columns: unknown[][] = iterators.map(() => []);
    if (this.#done) return columns;
    if (iterators.length === 1) {
      // The usual case, and per item: no loop over the inputs.
      const iterator = iterators[0];
      const column = columns[0];
      while (column.length < count) {
        const step = iterator.next();
        if (step.done) return this.#finish(columns);
        column.push(step.value);
      }
      return columns;
    }
    for (let row = 0; row < count; row++) {
      for (let i = 0; i < iterators.length; i++) {
        const step = iterators[i].next();
        if (step.done) return this.#finish(columns, row);
        columns[i].push(step.value);
      }
    }
    return columns;
  }

  /** `readSync` over plain arrays: the values their iterators would give
   * now (each read checks the length then, as the iterator does), taken
   * by `slice`: a packed copy, which structured clone sends densely. */
  #sliceArrays(count: number): unknown[][] {
    const arrays = this.#arrays!;
    const start = this.#position;
    let rows = this.#done ? 0 : count;
    for (const array of arrays) rows = Math.min(rows, array.length - start);
    rows = Math.max(rows, 0);
    this.#position = start + rows;
    if (rows < count) this.#done = true;
    return arrays.map((array) => array.slice(start, start + rows));
  }

  /** As `readSync`, over inputs of which at least one is async. */
  async read(count: number): Promise<unknown[][]> {
    const columns: unknown[][] = this.#iterators.map(() => []);
    for (let row = 0; !this.#done && row < count; row++) {
      for (let i = 0; i < this.#iterators.length; i++) {
        const step = await this.#iterators[i].next();
        if (step.done) return this.#finish(columns, row);
        columns[i].push(step.value);
      }
    }
    return columns;
  }

  /** Closes the inputs, one of which is exhausted, and keeps the first
   * `rows` calls (a call whose arguments are not all there is dropped). */
  #finish(columns: unknown[][], rows = columns[0].length): unknown[][] {
    this.close();
    for (const column of columns) column.length = rows;
    return columns;
  }

  /** Closes every input that is not exhausted, as `break` in `for…of` would. */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    for (const iterator of this.#iterators) {
      try {
        const closing = iterator.return?.();
        if (closing instanceof Promise) closing.catch(() => {});
      } catch {
        // A failing return() must not hide the error that made us stop.
      }
    }
  }
}

const arrayValues = Array.prototype[Symbol.iterator];
const arrayIterator = Object.getPrototypeOf([][Symbol.iterator]());
const arrayIteratorNext = arrayIterator.next;

/** Whether iterating `input` is reading `input[0]`, `input[1]`, … up to its
 * length, with no code of its own: an array of no subclass, whose iterator
 * nobody replaced. */
function isPlainArray(input: unknown): input is readonly unknown[] {
  return Array.isArray(input) &&
    Object.getPrototypeOf(input) === Array.prototype &&
    input[Symbol.iterator] === arrayValues &&
    arrayIterator.next === arrayIteratorNext;
}
