/**
 * The process pool's transport: a worker subprocess spoken to in frames
 * over its stdin and stdout, and the calls that cross that pipe, with their
 * arguments and answers in the value codec.
 *
 * @module
 */
import type { Future } from "../future/future.ts";
import { decode, encode, sectionsOf } from "../workers/_codec.ts";
import {
  FrameReader,
  FrameTooLargeError,
  FrameWriter,
  type ParentMessage,
  ProtocolError,
  type Sections,
} from "../workers/_protocol.ts";
import type { BatchValues } from "./_map.ts";
import type { ChildExit, ChildProcess, Spawn } from "./_spawn.ts";
import type {
  EngineItem,
  EngineWorker,
  WorkerListener,
} from "./_worker_pool_engine.ts";
import {
  type FunctionShipping,
  refFor,
  type Shipped,
} from "./_function_shipping.ts";

type AnyFunction = (...args: never[]) => unknown;

/** An `ok` or `err` message, as the frame reader gives it. */
type WireAnswer = Sections & { value?: unknown; error?: unknown };

/** The items of a batch that could not be sent, by index. */
type LocalFailures = Map<number, unknown>;

/**
 * One submitted call, or one batch of calls of `map({ chunksize })`, with
 * its arguments already encoded.
 */
export class Call implements EngineItem {
  readonly future: Future<unknown>;
  readonly fn: AnyFunction;
  /** The wire of the argument list (of the lists, for a batch). */
  readonly args: unknown;
  /** For a batch: how many items it has, and those that failed to encode. */
  readonly batch: { size: number; failures: LocalFailures } | undefined;
  /** Whether `fn` went by source, so that a ReferenceError gets the hint. */
  bySource = false;

  constructor(
    future: Future<unknown>,
    fn: AnyFunction,
    args: unknown,
    batch?: { size: number; failures: LocalFailures },
  ) {
    this.future = future;
    this.fn = fn;
    this.args = args;
    this.batch = batch;
  }

  get calls(): number {
    return this.batch === undefined ? 1 : this.batch.size;
  }

  /** Settles the future with `answer`, the `ok` or `err` message.
   * @returns How many calls failed. */
  settle(ok: boolean, answer: unknown): number {
    try {
      const { value: wire, error: thrown, sections } = answer as WireAnswer;
      if (!ok) {
        this.future.setException(this.#rebuild(decode(thrown, sections)));
        return this.calls;
      }
      const value = decode(wire, sections);
      if (this.batch === undefined) {
        this.future.setResult(value);
        return 0;
      }
      const outcomes = merge(value, this.batch, (e) => this.#rebuild(e));
      this.future.setResult(outcomes);
      return outcomes.errors?.size ?? 0;
    } catch (error) {
      // A malformed answer fails this call only.
      if (!this.future.done()) this.future.setException(error);
      return this.calls;
    }
  }

  #rebuild(error: unknown): unknown {
    return this.bySource
      ? withClosureHint(remoteError(error), this.fn)
      : remoteError(error);
  }
}

const CLOSURE_HINT = "functions sent by source cannot use variables from " +
  "their defining scope: move it into a module listed in `modules`";

/**
 * Adds a hint to a `ReferenceError` thrown by a function sent by source:
 * the likeliest cause is a variable of the scope it was defined in.
 *
 * @param error The exception.
 * @param fn The function that threw it.
 * @returns The exception, its message amended when it is a `ReferenceError`.
 */
export function withClosureHint(error: unknown, fn: AnyFunction): unknown {
  if (!(error instanceof ReferenceError)) return error;
  const name = fn.name === "" ? "the function" : fn.name;
  error.message += ` (${name} was sent by source; ${CLOSURE_HINT})`;
  return error;
}

/**
 * The wire of an argument list.
 *
 * @param args The arguments.
 * @returns What `decode()` turns back into `args` in the worker.
 * @throws {DataCloneError} Naming the argument at fault:
 * `argument 2 → .cb: function cannot be sent`.
 */
export function encodeArgs(args: readonly unknown[]): unknown {
  try {
    return encode(args, "arguments");
  } catch (error) {
    // Encode them one by one, for the message that names the culprit.
    args.forEach((arg, i) => encode(arg, `argument ${i + 1}`));
    throw error;
  }
}

/**
 * The wire of a batch's argument lists, by column (see `ParentMessage`):
 * those that encode, and the errors of those that do not, which fail their
 * own items only.
 *
 * @param lists One argument list per item, all of one length (at least 1).
 * @returns The wire of the columns of the lists that encode, and the
 * failures by index.
 */
export function encodeBatch(
  lists: readonly (readonly unknown[])[],
): { args: unknown; failures: LocalFailures } {
  const failures: LocalFailures = new Map();
  try {
    return { args: encode(columnsOf(lists), "arguments"), failures };
  } catch {
    const sendable = lists.filter((list, i) => {
      try {
        encodeArgs(list);
        return true;
      } catch (error) {
        failures.set(i, error);
        return false;
      }
    });
    return { args: encode(columnsOf(sendable), "arguments"), failures };
  }
}

/** Argument lists turned into one array per parameter: a batch of calls of
 * one argument crosses as one flat array, cheaper to check, send and read
 * than one array per call. */
function columnsOf(lists: readonly (readonly unknown[])[]): unknown[][] {
  const arity = lists.length === 0 ? 0 : lists[0].length;
  const columns: unknown[][] = [];
  for (let p = 0; p < arity; p++) {
    const column: unknown[] = [];
    for (let i = 0; i < lists.length; i++) column.push(lists[i][p]);
    columns.push(column);
  }
  return columns;
}

/** A batch's outcomes from the worker's answer (`[values]` or `[values,
 * failures]`, for the items sent), around the local failures. The worker's
 * values are used as they are when no item failed. */
function merge(
  value: unknown,
  batch: { size: number; failures: LocalFailures },
  rebuild: (error: unknown) => unknown,
): BatchValues<unknown> {
  const [values, pairs] = value as [unknown[], unknown[] | undefined];
  if (pairs === undefined && batch.failures.size === 0) {
    return { values, errors: undefined };
  }
  const remote = new Map<number, unknown>();
  if (pairs !== undefined) {
    for (let k = 0; k < pairs.length; k += 2) {
      remote.set(pairs[k] as number, rebuild(pairs[k + 1]));
    }
  }
  if (batch.failures.size === 0) return { values, errors: remote };
  const merged: unknown[] = [];
  const errors = new Map<number, unknown>();
  let next = 0;
  for (let i = 0; i < batch.size; i++) {
    if (batch.failures.has(i)) {
      merged.push(undefined);
      errors.set(i, batch.failures.get(i));
      continue;
    }
    const j = next++;
    merged.push(values[j]);
    if (remote.has(j)) errors.set(i, remote.get(j));
  }
  return { values: merged, errors };
}

/**
 * An exception thrown in a worker, as rebuilt by the codec, with its `cause`
 * set to an error whose message holds the worker's stack (as Python's
 * `_RemoteTraceback`). A cause the exception had is kept as that error's own
 * cause.
 *
 * @param error The decoded exception: any value.
 * @returns The same value, its cause set when it is an error with a stack.
 */
export function remoteError(error: unknown): unknown {
  if (!(error instanceof Error) || typeof error.stack !== "string") {
    return error;
  }
  const remote = new Error(
    `the worker's stack:\n${error.stack}`,
    Object.hasOwn(error, "cause") ? { cause: error.cause } : undefined,
  );
  remote.name = "RemoteStack";
  // The parent's frames of this error say nothing: show the worker's only.
  remote.stack = `${remote.name}: ${remote.message}`;
  Object.defineProperty(error, "cause", {
    value: remote,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  return error;
}

/** What every worker of one pool is started with. */
export interface WorkerSetup {
  readonly spawn: Spawn;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly cwd: string | undefined;
  readonly maxFrameBytes: number;
  readonly shipping: FunctionShipping;
  /** The first message: modules, initializer (with its source) and args. */
  readonly init: ParentMessage & { t: "init" };
  /** The initializer's source key, which `init` delivers. */
  readonly initKey: number | undefined;
  /** The initializer, when it goes by source (for the closure hint). */
  readonly initBySource: AnyFunction | undefined;
}

/** A worker subprocess, for the engine. */
export class ProcessWorker implements EngineWorker<Call> {
  readonly #child: ChildProcess;
  readonly #listener: WorkerListener;
  readonly #shipping: FunctionShipping;
  readonly #writer: FrameWriter;
  readonly #reader: FrameReader;
  readonly #initBySource: AnyFunction | undefined;
  /** The source keys this worker has been sent. */
  readonly #sent = new Set<number>();
  #failed = false;

  /**
   * Starts a worker and queues its `init` message.
   *
   * @throws {Error} When the process cannot be started.
   */
  constructor(setup: WorkerSetup, listener: WorkerListener) {
    this.#listener = listener;
    this.#shipping = setup.shipping;
    this.#initBySource = setup.initBySource;
    this.#writer = new FrameWriter(setup.maxFrameBytes);
    this.#reader = new FrameReader(setup.maxFrameBytes);
    this.#writer.add(setup.init, sectionsOf(setup.init.args));
    if (setup.initKey !== undefined) this.#sent.add(setup.initKey);
    this.#child = setup.spawn({
      command: setup.command,
      env: setup.env,
      cwd: setup.cwd,
      onStdout: (chunk) => this.#read(chunk),
      onExit: (exit) => listener.exited(this.#describe(exit)),
    });
  }

  send(id: number, call: Call): void {
    const shipped: Shipped = this.#shipping.ship(call.fn);
    const fn = refFor(shipped, this.#sent);
    const t = call.batch === undefined ? "call" : "batch";
    try {
      this.#writer.add({ t, id, fn, args: call.args }, sectionsOf(call.args));
    } catch (error) {
      if (!(error instanceof FrameTooLargeError)) throw error;
      const tooLarge = new FrameTooLargeError(error.bytes, error.limit);
      tooLarge.message = `the arguments are ${error.bytes} bytes, ` +
        `over maxFrameBytes (${error.limit} bytes)`;
      throw tooLarge;
    }
    if ("k" in fn) {
      call.bySource = true;
      this.#sent.add(fn.k);
    }
  }

  flush(): void {
    while (this.#writer.size > 0) this.#child.write(this.#writer.take());
  }

  close(): void {
    this.#child.closeStdin();
  }

  kill(signal: "SIGTERM" | "SIGKILL"): void {
    this.#child.kill(signal);
  }

  hold(held: boolean): void {
    if (held) this.#child.ref();
    else this.#child.unref();
  }

  #read(chunk: Uint8Array): void {
    if (this.#failed) return;
    let messages: unknown[];
    try {
      messages = this.#reader.push(chunk);
    } catch (error) {
      // The frames before the bad bytes still answer their calls.
      const valid = error instanceof ProtocolError ? error.messages : [];
      for (const message of valid) this.#dispatch(message);
      return this.#fail(
        "wrote bytes on stdout that are not a frame (stdout carries the " +
          "pool's frames only: print to stderr)",
        error,
      );
    }
    for (const message of messages) this.#dispatch(message);
    this.#listener.idle();
  }

  #dispatch(message: unknown): void {
    if (this.#failed) return;
    const m = message as Record<string, unknown>;
    const listener = this.#listener;
    switch (m.t) {
      case "ok":
      case "err":
        if (typeof m.id !== "number") break;
        return listener.answered(m.id, m.t === "ok", m);
      case "ready":
        return listener.ready();
      case "init-failed": {
        let error: unknown;
        try {
          error = remoteError(decode(m.error, m.sections as ArrayBuffer[]));
          const init = this.#initBySource;
          if (init !== undefined) error = withClosureHint(error, init);
        } catch (failure) {
          error = failure;
        }
        return listener.initFailed(
          error,
          m.stage === "modules" ? "modules" : "initializer",
        );
      }
    }
    this.#fail(
      `sent a message the pool does not know: ${
        JSON.stringify(m).slice(0, 200)
      }`,
    );
  }

  #fail(what: string, cause?: unknown): void {
    this.#failed = true;
    const reason = cause instanceof Error ? `: ${cause.message}` : "";
    this.#listener.failed(
      `worker ${this.#child.pid} ${what}${reason}${this.#tail()}`,
      cause,
    );
  }

  #describe(exit: ChildExit): string {
    const how = exit.signal !== null
      ? `was killed by ${exit.signal}`
      : `exited with code ${exit.code}`;
    return `worker ${this.#child.pid} ${how}${this.#tail()}`;
  }

  #tail(): string {
    const tail = this.#child.stderrTail();
    if (tail === "") return "; it wrote nothing on stderr";
    return `; its last lines on stderr:\n${tail.replace(/^/gm, "  ")}`;
  }
}
