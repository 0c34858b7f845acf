/**
 * What a pool's worker does with the calls it is sent, whatever carries
 * them (frames over stdio, Web Worker messages): find the function a
 * reference names (a module export, or a source compiled once), run calls
 * and batches one at a time in the order they came, and turn exceptions
 * into values the parent can rebuild.
 *
 * Written for both worker entries: `web_worker.ts` and `process_worker.ts`
 * share its function table, compiler and error encoding.
 *
 * Imports nothing but types: a worker that loads the codec lazily (as
 * `web_worker.ts` does, to start faster) passes its `encode` in.
 *
 * @module
 */
import type { encode } from "./_codec.ts";
import type { FnRef } from "./_messages.ts";

/** The codec's `encode()`. */
export type Encode = typeof encode;

/** A function a worker can call. */
export type Fn = (...args: unknown[]) => unknown;

/** A source function that failed to compile: each call reports it again. */
interface CompileFailure {
  readonly error: unknown;
}

/** An import of the pool's `modules` failed: which module, and what the
 * import threw. */
export class ImportFailure {
  readonly url: string;
  readonly error: unknown;

  constructor(url: string, error: unknown) {
    this.url = url;
    this.error = error;
  }
}

/** What a worker's init threw, as its `init-failed` message says it: the
 * error, and the module that could not be imported when that failed. */
export function initFailure(
  thrown: unknown,
): { error: unknown; module?: string } {
  return thrown instanceof ImportFailure
    ? { error: thrown.error, module: thrown.url }
    : { error: thrown };
}

/** The functions one worker can call: the exports of the pool's `modules`,
 * and the sources it was sent, compiled once each. */
export class FunctionTable {
  readonly #modules = new Map<string, Record<string, unknown>>();
  readonly #sources = new Map<number, Fn | CompileFailure>();
  /** The function exports of `modules`, by source text. */
  readonly #exportsBySource = new Map<string, Fn>();

  /**
   * Imports the pool's `modules`.
   *
   * @param urls Module URLs, as the parent resolved them.
   * @throws {ImportFailure} What an import threw, and which one.
   */
  async load(urls: readonly string[]): Promise<void> {
    const loaded = await Promise.all(
      urls.map((url) =>
        import(url).catch((error) => {
          throw new ImportFailure(url, error);
        })
      ),
    );
    urls.forEach((url, i) => this.#modules.set(url, loaded[i]));
    for (const namespace of loaded) {
      for (const value of Object.values(namespace)) {
        if (typeof value !== "function") continue;
        const src = Function.prototype.toString.call(value);
        if (!this.#exportsBySource.has(src)) {
          this.#exportsBySource.set(src, value as Fn);
        }
      }
    }
  }

  /**
   * The function a reference names. A source is compiled once, unless it is
   * the text of an export of `modules`: then it is that export, with its
   * module's scope, as if sent by reference (the parent sends by source the
   * functions of a module it could not import, such as its main module
   * while that one waits in its top-level await).
   *
   * @param ref A module export, or a source key (with its text the first
   * time).
   * @returns The function.
   * @throws {TypeError} For an export that is missing or not a function.
   * @throws {SyntaxError} For a source that does not compile (every time).
   */
  resolve(ref: FnRef): Fn {
    if ("m" in ref) {
      const fn = this.#modules.get(ref.m)?.[ref.e];
      if (typeof fn !== "function") {
        throw new TypeError(`${ref.m} has no exported function ${ref.e}`);
      }
      return fn as Fn;
    }
    let entry = this.#sources.get(ref.k);
    if (entry === undefined) {
      if (ref.src === undefined) {
        throw new Error(`function ${ref.k} was never sent to this worker`);
      }
      try {
        entry = this.#exportsBySource.get(ref.src) ?? compile(ref.src);
      } catch (error) {
        entry = { error };
      }
      this.#sources.set(ref.k, entry);
    }
    if (typeof entry !== "function") throw entry.error;
    return entry;
  }
}

/**
 * Compiles a function's source text in the global scope.
 *
 * @param src What `Function.prototype.toString` gave: a function, an arrow
 * function, a class or a method.
 * @returns The function.
 * @throws {SyntaxError} When the text does not compile.
 * @throws {TypeError} When it is not a function.
 */
export function compile(src: string): Fn {
  let value: unknown;
  try {
    // The line break ends a trailing line comment before the parenthesis.
    value = evaluate(`(${src}\n)`);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // A method's source (`area() { … }`) is not an expression on its own,
    // but is the body of an object literal.
    try {
      const holder = evaluate(`({${src}\n})`) as object;
      value = Object.values(Object.getOwnPropertyDescriptors(holder))[0]
        ?.value;
    } catch {
      throw error;
    }
  }
  if (typeof value !== "function") {
    throw new TypeError(`the source sent is not a function: ${src}`);
  }
  return value as Fn;
}

/** Evaluates an expression in the global scope (an indirect eval, not in
 * this module's scope), in strict mode as the module a function comes from
 * (V8 also runs sloppy code slower: fib, 12 %), unless it parses only in
 * sloppy mode. */
function evaluate(expression: string): unknown {
  try {
    return (0, eval)(`"use strict";${expression}`);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return (0, eval)(expression);
  }
}

/**
 * Whether `value` has a `then` method, as `await` decides.
 *
 * @param value Any value.
 * @returns `true` for a promise or another thenable.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function";
}

/**
 * Calls `fn(...args)` and reports how it ended: at once for a sync call
 * (or one that throws), once settled for a call that returns a thenable.
 *
 * @param id The call's id, passed on to `done` (no closure per call).
 * @param fn The function.
 * @param args Its arguments.
 * @param done Receives `(id, true, value)` or `(id, false, exception)`, once.
 * @returns A promise that settles after `done` ran, for an async call only.
 */
export function runCall(
  id: number,
  fn: Fn,
  args: readonly unknown[],
  done: (id: number, ok: boolean, value: unknown) => void,
): Promise<void> | undefined {
  let value: unknown;
  try {
    value = fn(...args);
  } catch (error) {
    done(id, false, error);
    return undefined;
  }
  if (!isThenable(value)) {
    done(id, true, value);
    return undefined;
  }
  return Promise.resolve(value).then(
    (result) => done(id, true, result),
    (error) => done(id, false, error),
  );
}

/**
 * Calls `fn` once per item of a batch, in order, each call awaited before
 * the next, and reports every outcome together.
 *
 * @param id The batch's id, passed on to `done`.
 * @param fn The function.
 * @param columns The items' arguments by column: `fn(columns[0][i],
 * columns[1][i])` is item `i`.
 * @param done Receives, once, the id, one value per item and the `index,
 * exception` pairs (flat) of the items that threw, whose values are `null`.
 * @returns A promise that settles after `done` ran, when some call was
 * async; `undefined` when all of them were sync.
 */
export function runBatch(
  id: number,
  fn: Fn,
  columns: readonly ArrayLike<unknown>[],
  done: (id: number, values: unknown[], failures: unknown[]) => void,
): Promise<void> | undefined {
  const size = columns[0]?.length ?? 0;
  const values: unknown[] = [];
  const failures: unknown[] = [];
  // Sync items run in a loop; the first async one parks the rest behind it.
  const runFrom = (start: number): Promise<void> | undefined => {
    for (let i = start; i < size; i++) {
      let value: unknown;
      try {
        value = callItem(fn, columns, i);
      } catch (error) {
        values.push(null);
        failures.push(i, error);
        continue;
      }
      if (isThenable(value)) {
        return Promise.resolve(value).then(
          (result) => values.push(result),
          (error) => {
            values.push(null);
            failures.push(i, error);
          },
        ).then(() => runFrom(i + 1));
      }
      values.push(value);
    }
    done(id, values, failures);
    return undefined;
  };
  return runFrom(0);
}

/** Item `i` of a batch: `fn` called with row `i` of the argument columns. */
function callItem(
  fn: Fn,
  columns: readonly ArrayLike<unknown>[],
  i: number,
): unknown {
  switch (columns.length) {
    case 1:
      return fn(columns[0][i]);
    case 2:
      return fn(columns[0][i], columns[1][i]);
    default:
      return fn(...columns.map((column) => column[i]));
  }
}

/** How long, in ms, answers that are ready may wait for the messages after
 * them; see {@linkcode Inbox}. */
const FLUSH_MS = 0.5;

/**
 * Runs messages one at a time in the order they came: a message whose
 * handling returns a promise is awaited before the next starts. The answers
 * ready so far are flushed before such a wait, after the last message, and
 * once they have waited `FLUSH_MS`: answers to what arrived together leave
 * together, unless that is long work, whose first answers the pool gets
 * while the worker goes on (it can then send more before this runs dry).
 * Each flush says how long the worker was busy since it began this work or
 * last flushed: the pool sizes what it sends ahead by that, not by round
 * trips that its own delays lengthen.
 *
 * @typeParam M The messages.
 */
export class Inbox<M> {
  readonly #handle: (message: M) => Promise<void> | undefined;
  readonly #flush: (busyMs: number) => void;
  #messages: M[] = [];
  #busySince = 0;
  #next = 0;
  #running = false;
  #stopped = false;

  /**
   * @param handle Runs one message; returns a promise only when it must be
   * awaited, which must not reject. Must not throw.
   * @param flush Sends the answers queued so far, and `busyMs`, how long
   * they took.
   */
  constructor(
    handle: (message: M) => Promise<void> | undefined,
    flush: (busyMs: number) => void,
  ) {
    this.#handle = handle;
    this.#flush = flush;
  }

  /**
   * Queues messages and runs them, unless a message is being awaited (then
   * they run after it).
   *
   * @param messages The messages, in order; the inbox may keep the array.
   */
  receive(messages: M[]): void {
    if (this.#running) {
      for (const message of messages) this.#messages.push(message);
      return;
    }
    this.#messages = messages;
    this.#next = 0;
    this.#busySince = performance.now();
    this.#run();
  }

  /** Runs no more messages: the worker is going away. */
  stop(): void {
    this.#stopped = true;
  }

  // Not an async function: most calls are sync, and then the whole batch
  // runs in this one loop without a promise.
  #run(): void {
    this.#running = true;
    const messages = this.#messages;
    while (!this.#stopped && this.#next < messages.length) {
      const pending = this.#handle(messages[this.#next++]);
      if (pending !== undefined) {
        // Answers ready so far must not wait behind an async call.
        this.#flushBusy();
        pending.then(this.#resume);
        return;
      }
      if (performance.now() - this.#busySince >= FLUSH_MS) this.#flushBusy();
    }
    this.#messages = [];
    this.#running = false;
    this.#flushBusy();
  }

  /** Flushes, with the time since the last flush: an awaited call counts,
   * since the messages after it wait for it. */
  #flushBusy(): void {
    const now = performance.now();
    this.#flush(now - this.#busySince);
    this.#busySince = now;
  }

  readonly #resume = (): void => this.#run();
}

/**
 * The wire of a thrown value, in the codec; see {@linkcode sendableError}.
 *
 * @param error Any thrown value.
 * @param encode The codec's `encode()`.
 * @returns What `decode()` rebuilds it from.
 */
export function encodeError(error: unknown, encode: Encode): unknown {
  try {
    return encode(error, "exception");
  } catch {
    return encode(sendableError(error, encode), "exception");
  }
}

/**
 * A thrown value that can be sent. An error whose own properties cannot be
 * sent still arrives, with its name, message and stack; a thrown value that
 * cannot be sent at all arrives as the `DataCloneError` saying why.
 *
 * @param error Any thrown value.
 * @param encode The codec's `encode()`.
 * @returns `error`, or a stand-in the codec accepts.
 */
export function sendableError(error: unknown, encode: Encode): unknown {
  try {
    encode(error, "exception");
    return error;
  } catch (failure) {
    // Reading it may throw too (a revoked proxy): then it arrives as why it
    // could not be sent.
    try {
      if (!(error instanceof Error)) return failure;
      const bare = new Error(String(error.message));
      bare.name = String(error.name);
      bare.stack = error.stack;
      return bare;
    } catch {
      return failure;
    }
  }
}
