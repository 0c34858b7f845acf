/**
 * What the process pool's and the worker pool's calls share, whatever
 * carries them: the call itself ({@linkcode RemoteCall}), how a batch's
 * outcomes come together, how an exception thrown in a worker is rebuilt
 * here, and the message that names an argument that cannot be sent.
 *
 * @module
 */
import type { Future } from "../future/future.ts";
import type { BatchValues } from "./_map.ts";
import { encode } from "../workers/_codec.ts";
import type { EngineItem } from "./_worker_transport.ts";

type AnyFunction = (...args: never[]) => unknown;

/** A batch of `map({ chunksize })`: how many items it has, and the items
 * that failed here (their arguments cannot be sent), by index; the worker
 * is sent the others. */
export interface BatchState {
  readonly size: number;
  readonly failures: Map<number, unknown>;
}

/**
 * One submitted call, or one batch of calls of `map({ chunksize })`, as the
 * engine queues it and a transport sends it.
 *
 * A worker answers a batch with `[values]`, or `[values, failures]` when
 * some item threw: `failures` lists `index, exception` pairs (flat) over the
 * items it was sent, and the value of a failed item means nothing.
 */
export class RemoteCall implements EngineItem {
  readonly future: Future<unknown>;
  readonly fn: AnyFunction;
  /** The arguments as the transport sends them: the codec's wire, or the
   * values themselves; for a batch, one column per parameter. */
  args: unknown;
  /** Buffers that move with the arguments instead of being copied. */
  readonly transfer: Transferable[] | undefined;
  readonly batch: BatchState | undefined;
  /** Whether `fn` went by source, so that a ReferenceError gets the hint. */
  bySource = false;

  constructor(
    future: Future<unknown>,
    fn: AnyFunction,
    args: unknown,
    transfer?: Transferable[],
    batch?: BatchState,
  ) {
    this.future = future;
    this.fn = fn;
    this.args = args;
    this.transfer = transfer;
    this.batch = batch;
  }

  get calls(): number {
    return this.batch === undefined ? 1 : this.batch.size;
  }

  finish(ok: boolean, value: unknown): number {
    try {
      if (!ok) {
        this.future.setException(this.rebuild(value));
        return this.calls;
      }
      if (this.batch === undefined) {
        this.future.setResult(value);
        return 0;
      }
      const outcomes = merge(value, this.batch, (e) => this.rebuild(e));
      this.future.setResult(outcomes);
      return outcomes.errors?.size ?? 0;
    } catch (error) {
      // A malformed answer fails this call only.
      if (!this.future.done()) this.future.setException(error);
      return this.calls;
    }
  }

  /** An exception this call's worker threw, as the caller sees it. */
  rebuild(error: unknown): unknown {
    return this.bySource
      ? withClosureHint(remoteError(error), this.fn)
      : remoteError(error);
  }
}

/** A batch's outcomes from the worker's answer (for the items sent), around
 * the local failures. The worker's values are used as they are when no
 * item failed. */
function merge(
  value: unknown,
  batch: BatchState,
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
 * The calls of a batch whose arguments can travel, by column: those for
 * which `travels(row)` returns (it may replace the row's values, in place,
 * with what travels); the others' errors are the batch's failures.
 *
 * @param columns The calls' arguments, one array per parameter.
 * @param travels Throws for the arguments of one call that cannot travel.
 * @returns The sendable columns and the batch.
 */
export function sendableBatch(
  columns: unknown[][],
  travels: (row: unknown[]) => void,
): { columns: unknown[][]; batch: BatchState } {
  const size = columns[0].length;
  const failures = new Map<number, unknown>();
  const kept: unknown[][] = columns.map(() => []);
  for (let i = 0; i < size; i++) {
    const row = columns.map((column) => column[i]);
    try {
      travels(row);
    } catch (error) {
      failures.set(i, error);
      continue;
    }
    row.forEach((value, p) => kept[p].push(value));
  }
  return { columns: kept, batch: { size, failures } };
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
