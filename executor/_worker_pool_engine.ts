/**
 * The part of a pool of long-lived workers that does not depend on how the
 * workers are reached: the queue of calls, starting workers on demand,
 * sending each worker its next calls ahead of time, matching answers to
 * calls, replacing workers after `maxTasksPerChild`, stopping calls that
 * run past their limits, replacing workers that die (with `onWorkerDeath:
 * "replace"`), and breaking, shutting down and terminating the pool. A
 * transport (subprocesses over stdio, Web Workers) implements
 * {@linkcode EngineWorker} and reports back through
 * {@linkcode WorkerListener}.
 *
 * @module
 */
import { ShutdownError, WorkerDiedError } from "../future/errors.ts";
import { Future } from "../future/future.ts";
import type { ExecutorStats } from "./executor.ts";
import { CallLimits, checkCall, type RunOptions } from "./_call_limits.ts";
import { Queue } from "./_queue.ts";
import type { InitStage } from "../workers/_protocol.ts";

/** A call waiting for, or running on, a worker. */
export interface EngineItem {
  /** The call's future: RUNNING once sent, FINISHED once answered. */
  readonly future: Future<unknown>;
  /** How many calls the item holds: 1, or the size of a batch. */
  readonly calls: number;
  /** Finishes the future from the worker's answer (`ok`: a result, else an
   * exception), in the transport's encoding. Must not throw.
   * @returns How many of the item's calls failed. */
  settle(ok: boolean, payload: unknown): number;
}

/** One worker, as the transport drives it. */
export interface EngineWorker<I extends EngineItem> {
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
  /** The worker is initialised (modules loaded, initializer ran). */
  ready(): void;
  /** The worker's init failed with `error` at `stage`. */
  initFailed(error: unknown, stage: InitStage): void;
  /** Call `id` was answered; `payload` goes to the item's `settle()`. */
  answered(id: number, ok: boolean, payload: unknown): void;
  /** The answers of one read are in: a good time to send more. */
  idle(): void;
  /** The worker broke the protocol and cannot be trusted: the pool breaks
   * and kills it (`exited` follows). `message` says what it did. */
  failed(message: string, cause?: unknown): void;
  /** The worker is gone; `how` says how it ended and what it last wrote,
   * e.g. "worker 42 exited with code 1". */
  exited(how: string): void;
}

/** The pool-specific parts the engine needs. */
export interface EngineHost<I extends EngineItem> {
  /** Gets ready to start workers (loads what they need); called once. */
  prepare(): Promise<void>;
  /** Starts a worker that reports to `listener`. Throws when it cannot. */
  start(listener: WorkerListener): EngineWorker<I>;
  /** A new `Broken…` error of the pool, for `reason`; `detail` says what
   * happened (e.g. "worker 42 exited with code 1"). Called once for every
   * future it fails and every call it refuses. */
  broken(reason: BreakReason, detail: string, cause?: unknown): Error;
}

/** Why a pool breaks: a worker could not start, could not import the pool's
 * modules, its initializer failed, it broke the protocol, it died, or it was
 * terminated on purpose (which fails its calls without breaking the pool). */
export type BreakReason =
  | "start"
  | InitStage
  | "protocol"
  | "died"
  | "terminated";

/** What a pool does when a worker dies while it owes answers: break, as
 * CPython's pools do, or fail the call it was running and start another
 * worker for the rest. */
export type OnWorkerDeath = "break" | "replace";

/** The engine's settings. */
export interface EngineOptions {
  /** How many workers may run at once. */
  readonly maxWorkers: number;
  /** How many calls a worker runs before it is replaced. */
  readonly maxTasksPerChild: number;
  /** What the death of a worker does. */
  readonly onWorkerDeath: OnWorkerDeath;
}

/** With `onWorkerDeath: "replace"`, this many deaths within
 * `CRASH_LOOP_MS` break the pool all the same: the workers die of
 * something no replacement will cure. */
const CRASH_LOOP_DEATHS = 5;
const CRASH_LOOP_MS = 10_000;

/**
 * How much work, in ms, a worker is sent ahead of time. A worker answers
 * all the calls of a read in one write and then waits for more, so every
 * round trip costs it a parent turnaround: the more calls per round trip,
 * the less that costs per call. But a call sent is RUNNING (no longer
 * cancellable) and bound to its worker, so only short calls are sent ahead:
 * a worker's window is this budget over its measured time per call, and a
 * call longer than the budget waits here for a worker that is free.
 */
const AHEAD_MS = 2;
/** A bound on any worker's window, however short its calls. */
const MAX_WINDOW = 1024;
/** The weight of the latest round trip in a worker's time per call. */
const SMOOTHING = 0.25;

/** `stopped`: killed by the engine to stop a call; its other calls went
 * back to the queue. */
type SlotState = "starting" | "ready" | "closing" | "stopped" | "gone";

/** The engine's record of one worker. */
class Slot<I extends EngineItem> {
  worker!: EngineWorker<I>;
  state: SlotState = "starting";
  /** Calls sent and not yet answered, oldest first. */
  readonly ids: number[] = [];
  readonly items: I[] = [];
  readonly sentAt: number[] = [];
  head = 0;
  /** How many calls may be in flight at once; see `AHEAD_MS`. */
  window = 1;
  /** The time per call, in ms, smoothed; assumed long until measured. */
  perCall = AHEAD_MS;
  /** How many more calls this worker may be sent. */
  budget: number;
  /** When the worker last answered (or became ready). */
  lastAnswerAt = 0;
  /** Since when the calls answered in the current read have been running. */
  readStart = 0;
  readAnswers = 0;
  held = true;
  /** Lets go of the event loop if the worker is still idle by then. */
  release: ReturnType<typeof setTimeout> | undefined;

  constructor(budget: number) {
    this.budget = budget;
  }

  get inFlight(): number {
    return this.ids.length - this.head;
  }

  push(id: number, item: I, now: number): void {
    this.ids.push(id);
    this.items.push(item);
    this.sentAt.push(now);
  }

  /** Removes the oldest call in flight and returns it with its send time. */
  shift(): [I, number] {
    const at = this.head++;
    const item = this.items[at];
    const sentAt = this.sentAt[at];
    this.items[at] = undefined as unknown as I; // let it be collected
    if (this.head === this.ids.length) this.#forget(this.head);
    else if (this.head >= 1024 && this.head * 2 >= this.ids.length) {
      // Never idle, so never emptied: drop the answered part now and then.
      this.#forget(this.head);
    }
    return [item, sentAt];
  }

  /** Removes every call in flight, oldest first. */
  drain(): I[] {
    const rest = this.items.slice(this.head);
    this.#forget(this.ids.length);
    return rest;
  }

  /** Drops the first `count` entries, all of them answered or drained. */
  #forget(count: number): void {
    if (count === this.ids.length) {
      this.ids.length = this.items.length = this.sentAt.length = 0;
    } else {
      this.ids.splice(0, count);
      this.items.splice(0, count);
      this.sentAt.splice(0, count);
    }
    this.head -= Math.min(this.head, count);
  }
}

/**
 * Runs calls on workers that a host starts; see the module documentation.
 *
 * @typeParam I The pool's call items.
 */
export class WorkerPoolEngine<I extends EngineItem> {
  readonly #host: EngineHost<I>;
  readonly #maxWorkers: number;
  readonly #maxTasks: number;
  readonly #replaceDead: boolean;
  /** When workers died, for `onWorkerDeath: "replace"`; the last few. */
  readonly #deaths: number[] = [];
  readonly #queue = new Queue<I>();
  /** The limits of the calls of `run()` not yet done. */
  readonly #limits = new Map<I, CallLimits>();
  /** The worker of each such call that was sent. */
  readonly #sentTo = new Map<I, Slot<I>>();
  readonly #slots = new Set<Slot<I>>();
  #prepared: Promise<void> | undefined;
  #ready = false;
  #pumpQueued = false;
  #nextId = 1;
  #completed = 0;
  #failed = 0;
  #shutdown = false;
  #terminating = false;
  // Makes the pool's `Broken…` error once it is broken: every future and
  // every refused call gets its own, which any of them may change.
  #broken: (() => Error) | undefined;
  #gone: PromiseWithResolvers<void> | undefined;

  constructor(host: EngineHost<I>, options: EngineOptions) {
    this.#host = host;
    this.#maxWorkers = options.maxWorkers;
    this.#maxTasks = options.maxTasksPerChild;
    this.#replaceDead = options.onWorkerDeath === "replace";
  }

  /** Throws what a pool's `submit()` must throw now: the error that broke
   * the pool, or `ShutdownError` once it is shut down. */
  assertOpen(): void {
    if (this.#broken !== undefined) throw this.#broken();
    if (this.#shutdown) throw new ShutdownError();
  }

  /**
   * The future of one call of `submit()` or `run()`: the call is checked and
   * made into an item by `make`, then queued. A bad argument, or arguments
   * that `make` cannot send, fail this future only.
   *
   * @param fn The function.
   * @param args Its arguments.
   * @param options The limits of `run()`; `undefined` for `submit()`.
   * @param make Builds the item that carries the call: one function per
   * pool, so that a call allocates no closure.
   * @returns The call's future.
   * @throws What {@linkcode assertOpen} throws.
   */
  call<T>(
    fn: (...args: never[]) => unknown,
    args: unknown[],
    options: RunOptions | undefined,
    make: (
      future: Future<unknown>,
      fn: (...args: never[]) => unknown,
      args: unknown[],
    ) => I,
  ): Future<T> {
    this.assertOpen();
    const future = new Future<T>();
    let limits: RunOptions | undefined;
    let item: I;
    try {
      limits = checkCall(fn, args, options);
      item = make(future as Future<unknown>, fn, args);
    } catch (error) {
      future.setException(error);
      return future;
    }
    this.submit(item, limits);
    return future;
  }

  /**
   * Queues a call; it is sent at the end of this turn at the earliest.
   *
   * @param item The call.
   * @param limits Its timeout and signal, checked by the caller.
   */
  submit(item: I, limits?: RunOptions): void {
    if (limits !== undefined) {
      const watch = new CallLimits(
        item.future,
        limits,
        (reason) => this.#interrupt(item, reason),
      );
      if (item.future.done()) return; // aborted already
      this.#limits.set(item, watch);
      item.future.addDoneCallback(() => {
        this.#limits.delete(item);
        this.#sentTo.delete(item);
      });
    }
    this.#queue.push(item);
    this.#schedule();
  }

  /**
   * Takes no more work: with `cancelFutures` the queued calls are cancelled;
   * the others still run. Workers are closed as they become idle.
   *
   * @returns A promise that settles once every worker is gone.
   */
  shutdown(cancelFutures: boolean): Promise<void> {
    this.#shutdown = true;
    if (cancelFutures) {
      // A call sent back from a stopped worker is RUNNING: it still runs.
      const running: I[] = [];
      for (const item of this.#queue.drain()) {
        if (!item.future.cancel() && !item.future.done()) running.push(item);
      }
      this.#queue.unshift(running);
    }
    this.#pump();
    return this.#whenGone();
  }

  /**
   * `shutdown(cancelFutures)`, then `signal` to every worker: the calls they
   * were running fail with the pool's `Broken…` error.
   *
   * @returns A promise that settles once every worker is gone.
   */
  terminate(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    const gone = this.shutdown(true);
    this.#terminating = true;
    for (const item of this.#queue.drain()) {
      this.#fail(
        item,
        this.#host.broken("terminated", "the pool was terminated"),
      );
    }
    for (const slot of this.#slots) slot.worker.kill(signal);
    return gone;
  }

  /** The pool's load; see `Executor.stats()`. */
  stats(): ExecutorStats {
    let idle = 0;
    let running = 0;
    for (const slot of this.#slots) {
      if (slot.inFlight === 0 && slot.state === "ready") idle++;
      for (let i = slot.head; i < slot.items.length; i++) {
        running += slot.items[i].calls;
      }
    }
    return {
      workers: this.#slots.size,
      idle,
      running,
      queued: this.#queue.sum((item) => item.future.done() ? 0 : item.calls),
      completed: this.#completed,
      failed: this.#failed,
    };
  }

  #whenGone(): Promise<void> {
    if (this.#slots.size === 0 && this.#idle()) return Promise.resolve();
    this.#gone ??= Promise.withResolvers();
    return this.#gone.promise;
  }

  /** Whether nothing waits to be sent (the pool may still be preparing). */
  #idle(): boolean {
    return this.#queue.length === 0 || this.#broken !== undefined;
  }

  #schedule(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(this.#pumpLater);
  }

  readonly #pumpLater = (): void => {
    this.#pumpQueued = false;
    this.#pump();
  };

  /** Sends queued calls to workers with room, starts workers where needed,
   * closes idle ones when their work is over, and flushes every write. */
  #pump(): void {
    if (this.#broken !== undefined) return this.#settleGone();
    if (!this.#ready) {
      // Nothing is loaded nor started for a pool that never gets work.
      if (this.#queue.length > 0) this.#prepare();
      return this.#settleGone();
    }
    const now = performance.now();
    for (const slot of this.#slots) this.#fill(slot, now);
    while (this.#queue.length > 0 && this.#canStart()) {
      const slot = this.#start();
      if (slot === undefined) return; // starting failed: the pool is broken
      this.#fill(slot, now);
    }
    for (const slot of this.#slots) this.#tidy(slot);
    this.#settleGone();
  }

  #prepare(): void {
    if (this.#prepared !== undefined) return;
    this.#prepared = this.#host.prepare().then(
      () => {
        this.#ready = true;
        this.#pump();
      },
      (error) => this.#break("start", message(error), error),
    );
  }

  #canStart(): boolean {
    let live = 0;
    for (const slot of this.#slots) {
      if (slot.state !== "closing" && slot.state !== "stopped") live++;
    }
    return live < this.#maxWorkers;
  }

  #start(): Slot<I> | undefined {
    const slot = new Slot<I>(this.#maxTasks);
    this.#slots.add(slot);
    try {
      slot.worker = this.#host.start(this.#listen(slot));
    } catch (error) {
      this.#slots.delete(slot);
      this.#break("start", message(error), error);
      return undefined;
    }
    return slot;
  }

  /** Sends `slot` queued calls up to its window and its task budget. */
  #fill(slot: Slot<I>, now: number): void {
    if (slot.state !== "ready" && slot.state !== "starting") return;
    const queue = this.#queue;
    let room = Math.min(slot.window - slot.inFlight, slot.budget);
    while (room > 0 && queue.length > 0) {
      if (this.#limits.size > 0 && !this.#mayTake(slot, queue.peek()!)) break;
      const item = queue.shift()!;
      const future = item.future;
      // Cancelled, or finished by hand, while queued: nothing to run.
      if (future.done()) continue;
      const id = this.#nextId++;
      try {
        slot.worker.send(id, item);
      } catch (error) {
        this.#fail(item, error);
        continue;
      }
      // A call sent back from a stopped worker is RUNNING already.
      if (!future.running()) future.setRunningOrNotifyCancel();
      slot.push(id, item, now);
      slot.budget--;
      room--;
      if (this.#limits.size > 0) this.#sent(slot, item);
    }
  }

  /** Whether `slot` may be sent `item` now. A call with limits goes only
   * to a ready worker with nothing else to do, so that it starts running
   * as it arrives: once sent, stopping it means stopping its worker, and
   * its timeout counts from there. */
  #mayTake(slot: Slot<I>, item: I): boolean {
    return !this.#limits.has(item) ||
      (slot.inFlight === 0 && slot.state === "ready");
  }

  /** Records where a call with limits went, and starts its timeout. */
  #sent(slot: Slot<I>, item: I): void {
    const limits = this.#limits.get(item);
    if (limits === undefined) return;
    this.#sentTo.set(item, slot);
    limits.started();
  }

  /** Ends a call that hit its limit: a queued one is cancelled; a running
   * one fails with `reason`, and its worker is killed. */
  #interrupt(item: I, reason: unknown): void {
    const slot = this.#sentTo.get(item);
    if (slot === undefined) {
      item.future.cancel();
      return;
    }
    this.#fail(item, reason);
    this.#stop(slot);
  }

  /** Kills a worker to stop the call it runs; the calls sent behind it go
   * back to the front of the queue, in order, for another worker. */
  #stop(slot: Slot<I>): void {
    slot.state = "stopped";
    this.#requeue(slot.drain());
    this.#kill(slot);
    this.#pump();
  }

  /** Puts calls back at the front of the queue. None of them has limits:
   * a call with limits is always alone on its worker, and done here. */
  #requeue(items: I[]): void {
    this.#queue.unshift(items.filter((item) => !item.future.done()));
  }

  /** Kills a worker, which then holds the event loop until it is gone, so
   * that `await shutdown()` waits for it. */
  #kill(slot: Slot<I>): void {
    slot.worker.kill("SIGKILL");
    if (!slot.held) {
      slot.held = true;
      slot.worker.hold(true);
    }
  }

  /** Flushes `slot`, closes it when its work is over, and lets it hold the
   * event loop only while it owes answers. */
  #tidy(slot: Slot<I>): void {
    if (slot.state === "gone") return;
    slot.worker.flush();
    const idle = slot.inFlight === 0;
    if (
      idle && (slot.state === "ready" || slot.state === "starting") &&
      (slot.budget === 0 || (this.#shutdown && this.#queue.length === 0))
    ) {
      slot.state = "closing";
      slot.worker.close();
    }
    // A starting worker holds the loop until it is ready, and a closing one
    // until it exits, so that `await shutdown()` is not left hanging.
    if (!idle || slot.state !== "ready") {
      if (!slot.held) {
        slot.held = true;
        slot.worker.hold(true);
      }
    } else if (slot.held && slot.release === undefined) {
      // Not at once: code that awaits one call and submits the next does
      // so within this task, and letting go of the loop and taking it back
      // costs a round trip's time under Bun (its reads are paused).
      slot.release = setTimeout(() => this.#release(slot), 0);
    }
  }

  #release(slot: Slot<I>): void {
    slot.release = undefined;
    if (slot.held && slot.inFlight === 0 && slot.state === "ready") {
      slot.held = false;
      slot.worker.hold(false);
    }
  }

  /** A worker killed to stop a call may still deliver what it wrote: of a
   * stopped worker, only its end counts. */
  #listen(slot: Slot<I>): WorkerListener {
    const stopped = () => slot.state === "stopped";
    return {
      ready: () => {
        if (stopped()) return;
        if (slot.state === "starting") slot.state = "ready";
        slot.lastAnswerAt = performance.now();
        this.#pump();
      },
      initFailed: (error, stage) => {
        if (!stopped()) this.#break(stage, message(error), error);
      },
      answered: (id, ok, payload) => {
        if (!stopped()) this.#answered(slot, id, ok, payload);
      },
      idle: () => {
        if (stopped()) return;
        this.#measure(slot);
        this.#pump();
      },
      failed: (what, cause) => {
        if (stopped()) return;
        slot.state = "closing";
        this.#break("protocol", what, cause);
      },
      exited: (how) => this.#exited(slot, how),
    };
  }

  #answered(slot: Slot<I>, id: number, ok: boolean, payload: unknown): void {
    if (slot.inFlight === 0 || slot.ids[slot.head] !== id) {
      slot.state = "closing";
      return this.#break(
        "protocol",
        `a worker answered call ${id}, which it was not running`,
      );
    }
    const [item, sentAt] = slot.shift();
    if (slot.readAnswers++ === 0) {
      slot.readStart = Math.max(sentAt, slot.lastAnswerAt);
    }
    if (item.future.done()) return; // finished by hand
    const failed = item.settle(ok, payload);
    this.#failed += failed;
    this.#completed += item.calls - failed;
  }

  /** Updates a worker's time per call from the answers of one read, and
   * its window from that. */
  #measure(slot: Slot<I>): void {
    if (slot.readAnswers === 0) return;
    const now = performance.now();
    const sample = (now - slot.readStart) / slot.readAnswers;
    slot.readAnswers = 0;
    slot.lastAnswerAt = now;
    slot.perCall += (sample - slot.perCall) * SMOOTHING;
    slot.window = Math.max(
      1,
      Math.min(MAX_WINDOW, Math.floor(AHEAD_MS / slot.perCall)),
    );
  }

  #exited(slot: Slot<I>, how: string): void {
    const state = slot.state;
    slot.state = "gone";
    clearTimeout(slot.release);
    this.#slots.delete(slot);
    const lost = slot.drain();
    if (this.#broken === undefined && state !== "stopped") {
      if (this.#terminating) {
        for (const item of lost) {
          this.#fail(item, this.#host.broken("terminated", how));
        }
      } else if (state !== "closing" || lost.length > 0) {
        this.#died(how, lost);
      }
    }
    // Calls lost after a break (a worker killed by it) fail with its error.
    if (this.#broken !== undefined) {
      for (const item of lost) this.#fail(item, this.#broken());
    }
    this.#pump();
  }

  /** A worker died on its own: the pool breaks, or with `onWorkerDeath:
   * "replace"` the call it was running fails and the others it was sent go
   * back to the queue, unless workers die in a loop. */
  #died(how: string, lost: I[]): void {
    if (!this.#replaceDead) return this.#break("died", how);
    const now = performance.now();
    this.#deaths.push(now);
    if (this.#deaths.length > CRASH_LOOP_DEATHS) this.#deaths.shift();
    if (
      this.#deaths.length === CRASH_LOOP_DEATHS &&
      now - this.#deaths[0] <= CRASH_LOOP_MS
    ) {
      return this.#break(
        "died",
        `${how}; ${CRASH_LOOP_DEATHS} workers died within ` +
          `${CRASH_LOOP_MS / 1000} s, so the pool stopped replacing them`,
      );
    }
    const [running, ...ahead] = lost;
    if (running !== undefined) {
      this.#fail(running, new WorkerDiedError(how));
    }
    this.#requeue(ahead);
  }

  /** Fails every queued and running call with the pool's `Broken…` error,
   * refuses new ones, and ends every worker. */
  #break(reason: BreakReason, detail: string, cause?: unknown): void {
    if (this.#broken !== undefined) return;
    const broken = () => this.#host.broken(reason, detail, cause);
    this.#broken = broken;
    for (const item of this.#queue.drain()) this.#fail(item, broken());
    for (const slot of this.#slots) {
      for (const item of slot.drain()) this.#fail(item, broken());
      this.#kill(slot);
    }
    this.#settleGone();
  }

  /** Fails a call the pool took, unless it is done already, and counts it. */
  #fail(item: I, error: unknown): void {
    if (item.future.done()) return;
    this.#failed += item.calls;
    item.future.setException(error);
  }

  #settleGone(): void {
    if (this.#gone === undefined || this.#slots.size > 0 || !this.#idle()) {
      return;
    }
    this.#gone.resolve();
    this.#gone = undefined;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
