/**
 * The messages between a worker pool and its Web Workers. They travel by
 * structured clone, so there is no framing and no codec for values: each
 * `postMessage` carries an array of messages, every message that one side
 * queued in one turn. Exceptions do travel in the value codec (as its wire,
 * which structured clone always accepts), so that an error keeps its name,
 * class and own properties as in the process pool.
 *
 * Types only: nothing of it is loaded at run time (a worker starts faster
 * for every module it does not load).
 *
 * @module
 */
import type { FnRef, InitStage } from "./_messages.ts";

/** A message from the pool to a worker. */
export type WebParentMessage =
  /** Sent first: import `modules`, run `init(...args)`, then answer `ready`
   * or `init-failed`. */
  | { t: "init"; modules: string[]; init?: FnRef; args?: unknown[] }
  /** Call `fn(...args)`. */
  | { t: "call"; id: number; fn: FnRef; args: unknown[] }
  /** Call `fn` once per item; `args` holds the items' arguments by column,
   * one per parameter (a column of numbers as a `Float64Array`), so that
   * `fn(args[0][i], args[1][i])` is item `i`. The answer is one `batch`
   * message. */
  | { t: "batch"; id: number; fn: FnRef; args: ArrayLike<unknown>[] };

/** A message from a worker to the pool. */
export type WebWorkerMessage =
  /** Init is done: modules imported, initializer ran. */
  | { t: "ready" }
  /** Init threw; `error` is its wire, `stage` what threw. */
  | {
    t: "init-failed";
    error: unknown;
    stage: InitStage;
    /** The module that could not be imported, at stage "modules". */
    module?: string;
  }
  /** Call `id` returned `value` (for a batch: the outcomes). */
  | { t: "ok"; id: number; value: unknown }
  /** Call `id` threw; `error` is its wire. */
  | { t: "err"; id: number; error: unknown }
  /** Batch `id` ran: `values` has one entry per item (all numbers: a
   * `Float64Array`); `failures`, when some item threw, lists `index, error
   * wire` pairs (flat), and the value of a failed item means nothing. */
  | {
    t: "batch";
    id: number;
    values: ArrayLike<unknown>;
    failures?: unknown[];
  }
  /** An error was thrown, or a rejection left unhandled, outside any call
   * (the worker keeps the runtime from reporting it too). `error` is its
   * wire, or with `raw` (the worker had not loaded the codec yet) the error
   * itself. */
  | { t: "fault"; what: "error" | "rejection"; error: unknown; raw?: true }
  /** The worker is closing itself: `how` names the call, `self.close()`. */
  | { t: "closing"; how: string }
  /** After the answers of one post: how long, in ms, the worker was busy on
   * them. */
  | { t: "busy"; ms: number };

/** The parts of a worker's global scope that `web_worker.ts` uses. */
export interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
  addEventListener(type: string, listener: (event: Event) => void): void;
  close?: () => void;
}
