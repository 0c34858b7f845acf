/**
 * The contract between the engine and a transport (subprocesses over stdio
 * in `_process_transport.ts`, Web Workers in `_web_worker_transport.ts`):
 * what the engine asks of one worker, and what the transport reports about
 * it. A transport reports only by throwing from {@linkcode EngineWorker.send}
 * or through its {@linkcode WorkerListener}; it never finishes a future.
 *
 * Types only: nothing of it is loaded at run time.
 *
 * @module
 */
import type { WorkerDeath } from "../future/errors.ts";
import type { Future } from "../future/future.ts";
import type { InitStage } from "../workers/_messages.ts";

/** A call waiting for, or running on, a worker. */
export interface EngineItem {
  /** The call's future: RUNNING once sent, FINISHED once answered. */
  readonly future: Future<unknown>;
  /** How many calls the item holds: 1, or the size of a batch. */
  readonly calls: number;
  /** Finishes the future from the worker's answer, as the transport read
   * it: a result (`ok`), else the exception the call threw. Must not throw.
   * @returns How many of the item's calls failed. */
  finish(ok: boolean, value: unknown): number;
}

/** One worker, as the engine drives it. */
export interface EngineWorker<I extends EngineItem> {
  /** The machine it runs on, in a pool across machines: `stats()` counts
   * by it. */
  readonly group?: string;
  /** Whether it takes calls only once ready: a worker on another machine,
   * whose start may fail after seconds (a link down), while another
   * machine could run them. */
  readonly awaitsReady?: boolean;
  /** Queues call `id` for the next {@linkcode EngineWorker.flush}. Throws
   * when this call cannot be sent (nothing is queued then): its future fails
   * with the error and the worker stays usable. */
  send(id: number, item: I): void;
  /** Sends everything queued since the last flush, in one write. */
  flush(): void;
  /** Sends no more calls: the worker exits once it has answered them. */
  close(): void;
  /** Ends the worker by a signal. */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
  /** Whether the worker may keep the parent's event loop alive. */
  hold(held: boolean): void;
}

/** What a transport reports about its worker. */
export interface WorkerListener {
  /** The worker is initialised (modules loaded, initializer ran); a
   * process worker says how many cores its machine has. */
  ready(cores?: number): void;
  /** The worker's init failed with `error` at `stage`; `module` is the
   * one it could not import, if that is what failed. */
  initFailed(error: unknown, stage: InitStage, module?: string): void;
  /** Call `id` was answered: `value` goes to the item's `finish()`. */
  answered(id: number, ok: boolean, value: unknown): void;
  /** Call `id` fails here with `error`, and the worker owes no answer for
   * it: its arguments could not be delivered, or its answer could not be
   * read. */
  callFailed(id: number, error: unknown): void;
  /** The worker was busy `ms` on the calls it answered since it last said
   * so: the time per call that sizes what it is sent ahead. */
  worked(ms: number): void;
  /** The answers of one read are in: a good time to send more. */
  answersRead(): void;
  /** The worker broke the protocol and cannot be trusted: the pool breaks
   * and kills it (`exited` follows). `what` says what it did. */
  misbehaved(what: string, cause?: unknown): void;
  /** The worker is gone: how it ended, in a sentence (`how`, e.g. "worker
   * 42 exited with code 1; its last lines on stderr: …") and in fields. */
  exited(exit: WorkerExit): void;
}

/** How a worker ended, as its transport reports it. */
export interface WorkerExit extends WorkerDeath {
  /** The sentence for error messages: which worker, how it ended, and what
   * it last wrote. */
  readonly how: string;
  /** Whether the pool ended it (closed or killed it), rather than it died
   * of something of its own. */
  readonly expected?: boolean;
}
