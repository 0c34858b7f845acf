/**
 * The part of a pool of long-lived workers that does not depend on how the
 * workers are reached: the queue of calls, starting workers on demand,
 * sending each worker its next calls ahead of time, matching answers to
 * calls, replacing workers after `maxTasksPerChild`, stopping calls that
 * run past their limits, replacing workers that die (with `onWorkerDeath:
 * "replace"`), and breaking, shutting down and terminating the pool. A
 * transport (subprocesses over stdio, Web Workers) implements
 * `EngineWorker` and reports back through `WorkerListener`
 * (`_worker_transport.ts`).
 *
 * @module
 */
import { WorkerDiedError } from "../future/errors.ts";
import type { Future } from "../future/future.ts";
import type { InitStage } from "../workers/_messages.ts";
import type { ExecutorStats } from "./executor.ts";
import {
  type CallLimits,
  type CallMethod,
  newCall,
  type RunOptions,
  watchLimits,
} from "./_call_limits.ts";
import { InFlight } from "./_in_flight.ts";
import { PoolGate } from "./_pool_gate.ts";
import { Queue } from "./_queue.ts";
import type {
  EngineItem,
  EngineWorker,
  WorkerExit,
  WorkerListener,
} from "./_worker_transport.ts";

/** The pool-specific parts the engine needs. */
export interface EngineHost<I extends EngineItem> {
  /** Gets ready to start workers (loads what they need); called once. */
  prepare(): Promise<void>;
  /** Starts a worker that reports to `listener`. Throws when it cannot. */
  start(listener: WorkerListener): EngineWorker<I>;
  /** The item that carries one call of `submit()` or `run()`: how its
   * arguments travel. Throws for arguments that cannot travel, which fails
   * that call only. */
  makeCall(
    future: Future<unknown>,
    fn: (...args: never[]) => unknown,
    args: unknown[],
  ): I;
  /** Whether a worker may start at `now` (`performance.now()`), beside
   * `maxWorkers`: in a pool across machines, whether a machine takes one.
   * Always, if absent. */
  mayStart?(now: number): boolean;
  /** Why no worker can start any more (every machine is down), which breaks
   * the pool; `undefined` while some may. */
  unservable?(): string | undefined;
  /** When (`performance.now()`) a worker may start again, while none may
   * at `now`: asked with the same `now` as `mayStart()`, so that a rest
   * that ends between the two questions is not missed by both. */
  nextStart?(now: number): number | undefined;
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
  /** Whether workers that die in a loop break the pool (see
   * `CRASH_LOOP_DEATHS`); a pool across machines keeps count by machine
   * instead. */
  readonly crashLoop?: boolean;
}

/** One group's part of `Engine.groups()`. */
export interface GroupStats {
  workers: number;
  idle: number;
  running: number;
  failed: number;
}

/** With `onWorkerDeath: "replace"`, this many deaths within
 * `CRASH_LOOP_MS` break the pool all the same: the workers die of
 * something no replacement will cure. */
const CRASH_LOOP_DEATHS = 5;
const CRASH_LOOP_MS = 10_000;

/**
 * How much work, in ms, a worker may be sent ahead of time. A worker
 * answers all the calls of a read in one write and then waits for more, so
 * every round trip costs it a parent turnaround: the more calls per round
 * trip, the less that costs per call. But a call sent is RUNNING (no longer
 * cancellable) and bound to its worker, so calls are sent ahead only
 *
 * - when every worker has a call and no more workers may start,
 * - a fair share of what is queued each, so that the tail of the queue is
 *   spread over the workers,
 * - up to a worker's window: this budget over its time per call, as the
 *   worker measures it, which starts at one call for every new burst of
 *   work and at most doubles per round trip,
 * - and never to a worker whose current call has run longer than this
 *   budget, nor behind a call of `run()` with limits.
 */
const AHEAD_MS = 2;
/** A bound on any worker's window, however short its calls: how many calls
 * at most a worker holds that it has not started. */
const MAX_WINDOW = 256;
/** The weight of the latest round trip in a worker's time per call. */
const SMOOTHING = 0.25;

/** `stopped`: killed by the engine to stop a call; its other calls went
 * back to the queue. */
type WorkerStatus = "starting" | "ready" | "closing" | "stopped" | "gone";

/** The engine's record of one worker. */
class WorkerRecord<I extends EngineItem> {
  worker!: EngineWorker<I>;
  status: WorkerStatus = "starting";
  readonly inFlight = new InFlight<I>();
  /** How many calls may be in flight at once; see `AHEAD_MS`. */
  window = 1;
  /** The time per call, in ms, smoothed; assumed long until measured. */
  perCall = AHEAD_MS;
  /** How many more calls this worker may be sent (`maxTasksPerChild`). */
  tasksLeft: number;
  /** Whether the worker said it was ready: until then, it has started none
   * of the calls it was sent. */
  wasReady = false;
  /** When the worker last answered (or became ready). */
  lastAnswerAt = 0;
  /** How many calls it answered since it last said how long it was busy. */
  readAnswers = 0;
  held = true;
  /** Lets go of the event loop if the worker is still idle by then. */
  release: ReturnType<typeof setTimeout> | undefined;

  constructor(tasksLeft: number) {
    this.tasksLeft = tasksLeft;
  }

  /** Whether it is ready and has nothing to do. */
  get idle(): boolean {
    return this.inFlight.size === 0 && this.status === "ready";
  }
}

/**
 * Runs calls on workers that a host starts; see the module documentation.
 *
 * @typeParam I The pool's call items.
 */
export class Engine<I extends EngineItem> {
  readonly #host: EngineHost<I>;
  readonly #maxWorkers: number;
  readonly #maxTasks: number;
  readonly #replaceDead: boolean;
  readonly #crashLoop: boolean;
  /** The calls failed by group, for `groups()`. */
  readonly #groupFailed = new Map<string, number>();
  /** Pumps again when a worker may start, while none may now: at
   * `#retryAt`. */
  #retry: ReturnType<typeof setTimeout> | undefined;
  #retryAt = 0;
  /** When workers died, for `onWorkerDeath: "replace"`; the last few. */
  readonly #deaths: number[] = [];
  readonly #queue = new Queue<I>();
  /** The limits of the calls of `run()` not yet done. */
  readonly #limits = new Map<I, CallLimits>();
  /** The worker of each such call that was sent. */
  readonly #sentTo = new Map<I, WorkerRecord<I>>();
  readonly #workers = new Set<WorkerRecord<I>>();
  readonly #gate = new PoolGate();
  #prepared: Promise<void> | undefined;
  #ready = false;
  #pumpQueued = false;
  #nextId = 1;
  #completed = 0;
  #failed = 0;
  #terminating = false;
  #gone: PromiseWithResolvers<void> | undefined;

  constructor(host: EngineHost<I>, options: EngineOptions) {
    this.#host = host;
    this.#maxWorkers = options.maxWorkers;
    this.#maxTasks = options.maxTasksPerChild;
    this.#replaceDead = options.onWorkerDeath === "replace";
    this.#crashLoop = options.crashLoop ?? true;
  }

  /** Throws what a pool's `submit()` must throw now: the error that broke
   * the pool, or `ShutdownError` once it is shut down. */
  assertOpen(): void {
    this.#gate.assertOpen();
  }

  /**
   * The future of one call of `submit()` or `run()`: the call is checked and
   * made into an item by the host's `makeCall()`, then queued. A bad
   * argument, or arguments that cannot travel, fail this future only.
   *
   * @param method The method the call came through.
   * @param fn The function.
   * @param args Its arguments.
   * @param options The options of `run()`.
   * @returns The call's future.
   * @throws What {@linkcode Engine.assertOpen} throws.
   */
  call<T>(
    method: CallMethod,
    fn: unknown,
    args: unknown,
    options: RunOptions | undefined,
  ): Future<T> {
    this.#gate.assertOpen();
    return newCall(method, fn, args, options, this.#accept);
  }

  readonly #accept = (
    future: Future<unknown>,
    fn: (...args: never[]) => unknown,
    args: unknown[],
    limits: RunOptions | undefined,
  ): void => this.submit(this.#host.makeCall(future, fn, args), limits);

  /**
   * Queues a call; it is sent at the end of this turn at the earliest.
   *
   * @param item The call.
   * @param limits Its timeout and signal, checked by the caller.
   */
  submit(item: I, limits?: RunOptions): void {
    if (limits !== undefined) {
      const watch = watchLimits(
        item.future,
        limits,
        (reason) => this.#interrupt(item, reason),
      );
      if (watch === undefined) return; // aborted already
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
    this.#gate.shut();
    if (cancelFutures) {
      // A call sent back from a stopped worker is RUNNING: it still runs.
      const running: I[] = [];
      for (const item of this.#queue.takeAll()) {
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
    for (const item of this.#queue.takeAll()) {
      this.#fail(
        item,
        this.#host.broken("terminated", "the pool was terminated"),
      );
    }
    for (const record of this.#workers) record.worker.kill(signal);
    return gone;
  }

  /** The pool's load; see `Executor.stats()`. */
  stats(): ExecutorStats {
    let idle = 0;
    let running = 0;
    for (const record of this.#workers) {
      if (record.idle) idle++;
      running += record.inFlight.calls();
    }
    return {
      workers: this.#workers.size,
      idle,
      running,
      queued: this.#queue.sum((item) => item.future.done() ? 0 : item.calls),
      completed: this.#completed,
      failed: this.#failed,
    };
  }

  /** `stats()` by group, for a pool across machines. */
  groups(): Map<string, GroupStats> {
    const groups = new Map<string, GroupStats>();
    const of = (group: string) => {
      let stats = groups.get(group);
      if (stats === undefined) {
        stats = { workers: 0, idle: 0, running: 0, failed: 0 };
        stats.failed = this.#groupFailed.get(group) ?? 0;
        groups.set(group, stats);
      }
      return stats;
    };
    for (const group of this.#groupFailed.keys()) of(group);
    for (const record of this.#workers) {
      const group = record.worker?.group;
      if (group === undefined) continue;
      const stats = of(group);
      stats.workers++;
      if (record.idle) stats.idle++;
      stats.running += record.inFlight.calls();
    }
    return groups;
  }

  #whenGone(): Promise<void> {
    if (this.#workers.size === 0 && this.#nothingToSend()) {
      return Promise.resolve();
    }
    this.#gone ??= Promise.withResolvers();
    return this.#gone.promise;
  }

  /** Whether nothing waits to be sent (the pool may still be preparing). */
  #nothingToSend(): boolean {
    return this.#queue.length === 0 || this.#gate.broken;
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
    if (this.#gate.broken) return this.#settleGone();
    if (!this.#ready) {
      // Nothing is loaded nor started for a pool that never gets work.
      if (this.#queue.length > 0) this.#prepare();
      return this.#settleGone();
    }
    const now = performance.now();
    // First a call for every worker that has none, starting workers while
    // calls wait; only then calls ahead (see `AHEAD_MS`).
    for (const record of this.#workers) {
      if (record.inFlight.size === 0) this.#send(record, 1, now);
    }
    // One `now` for every question about starting: a rest that ended
    // between two readings of the clock would leave no worker starting and
    // no retry set (timers may fire up to a millisecond early).
    while (this.#queue.length > 0 && this.#canStart(now)) {
      const record = this.#start();
      if (record === undefined) return; // starting failed: the pool is broken
      this.#send(record, 1, now);
    }
    if (this.#queue.length > 0) this.#sendAhead(now);
    if (this.#queue.length > 0 && this.#host.nextStart !== undefined) {
      if (!this.#canStart(now) && this.#waitForStart(now)) return;
    }
    for (const record of this.#workers) this.#tidy(record);
    this.#settleGone();
  }

  /** Calls wait and no worker may start now: breaks the pool when none
   * ever may, else pumps again when one may. Returns whether it broke. */
  #waitForStart(now: number): boolean {
    const why = this.#host.unservable?.();
    if (why !== undefined) {
      this.#break("died", why);
      return true;
    }
    const at = this.#host.nextStart?.(now);
    // Set for later, it is set again: a machine that just began a short rest
    // must not wait for the end of another's long one.
    if (
      at === undefined || (this.#retry !== undefined && this.#retryAt <= at)
    ) {
      return false;
    }
    clearTimeout(this.#retry);
    this.#retryAt = at;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#pump();
    }, Math.max(0, at - performance.now()));
    return false;
  }

  /** Sends the calls still queued ahead to the busy workers that may take
   * more, a fair share of the queue each. */
  #sendAhead(now: number): void {
    const takers: WorkerRecord<I>[] = [];
    for (const record of this.#workers) {
      if (this.#takesAhead(record, now)) takers.push(record);
    }
    for (let i = 0; i < takers.length && this.#queue.length > 0; i++) {
      const share = Math.ceil(this.#queue.length / (takers.length - i));
      this.#send(takers[i], takers[i].inFlight.size + share, now);
    }
  }

  /** Whether a busy worker may be sent calls ahead now. */
  #takesAhead(record: WorkerRecord<I>, now: number): boolean {
    const inFlight = record.inFlight;
    if (
      record.status !== "ready" || inFlight.size >= record.window ||
      record.tasksLeft === 0
    ) {
      return false;
    }
    // A call with limits is alone on its worker: stopping it stops the
    // worker.
    if (this.#limits.size > 0 && this.#limits.has(inFlight.oldest!)) {
      return false;
    }
    // Busy with a call longer than the budget: whatever it was sent would
    // wait behind it.
    const busySince = Math.max(inFlight.oldestSentAt!, record.lastAnswerAt);
    return now - busySince <= AHEAD_MS;
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

  #canStart(now: number): boolean {
    let live = 0;
    for (const record of this.#workers) {
      if (record.status !== "closing" && record.status !== "stopped") live++;
    }
    return live < this.#maxWorkers && (this.#host.mayStart?.(now) ?? true);
  }

  #start(): WorkerRecord<I> | undefined {
    const record = new WorkerRecord<I>(this.#maxTasks);
    this.#workers.add(record);
    try {
      record.worker = this.#host.start(this.#listen(record));
    } catch (error) {
      this.#workers.delete(record);
      this.#break("start", message(error), error);
      return undefined;
    }
    return record;
  }

  /** Sends a worker queued calls until it has `upTo` in flight, within its
   * window and its tasks left. */
  #send(record: WorkerRecord<I>, upTo: number, now: number): void {
    if (record.status !== "ready" && record.status !== "starting") return;
    if (record.status === "starting" && record.worker.awaitsReady) return;
    const queue = this.#queue;
    const inFlight = record.inFlight;
    let room = Math.min(
      Math.min(upTo, record.window) - inFlight.size,
      record.tasksLeft,
    );
    while (room > 0 && queue.length > 0) {
      if (this.#limits.size > 0 && !this.#mayTake(record, queue.peek()!)) {
        break;
      }
      const item = queue.shift()!;
      const future = item.future;
      // Cancelled, or finished by hand, while queued: nothing to run.
      if (future.done()) continue;
      const id = this.#nextId++;
      try {
        record.worker.send(id, item);
      } catch (error) {
        this.#fail(item, error);
        continue;
      }
      // A call back from a worker that never started it is RUNNING already.
      if (!future.running()) future.setRunningOrNotifyCancel();
      inFlight.push(id, item, now);
      record.tasksLeft--;
      room--;
      if (this.#limits.size > 0) this.#sent(record, item);
    }
  }

  /** Whether a worker may be sent `item` now. A call with limits goes only
   * to a ready worker with nothing else to do, so that it starts running
   * as it arrives: once sent, stopping it means stopping its worker, and
   * its timeout counts from there. */
  #mayTake(record: WorkerRecord<I>, item: I): boolean {
    return !this.#limits.has(item) || record.idle;
  }

  /** Records where a call with limits went, and starts its timeout. */
  #sent(record: WorkerRecord<I>, item: I): void {
    const limits = this.#limits.get(item);
    if (limits === undefined) return;
    this.#sentTo.set(item, record);
    limits.started();
  }

  /** Ends a call that hit its limit: a queued one is cancelled; a running
   * one fails with `reason`, and its worker is killed. */
  #interrupt(item: I, reason: unknown): void {
    const record = this.#sentTo.get(item);
    if (record === undefined) {
      item.future.cancel();
      return;
    }
    this.#fail(item, reason);
    this.#stop(record);
  }

  /** Kills a worker to stop the call it runs, which is alone on it: a
   * call with limits is sent only to an idle worker, and none behind it. */
  #stop(record: WorkerRecord<I>): void {
    record.status = "stopped";
    this.#salvage(
      record,
      record.inFlight.takeAll(),
      () =>
        new WorkerDiedError("the worker was killed to stop a call of run()", {
          signal: "SIGKILL",
        }),
    );
    this.#kill(record);
    this.#pump();
  }

  /**
   * What becomes of the calls a worker still held when it ended: run at
   * most once. A worker that never said it was ready started none of them,
   * and they go back to the front of the queue, in order, for another
   * worker; any other may have started them all (it answers a read's calls
   * together), and they fail, each with an `error()` of its own.
   */
  #salvage(record: WorkerRecord<I>, lost: I[], error: () => Error): void {
    if (!record.wasReady) {
      this.#queue.unshift(lost.filter((item) => !item.future.done()));
      return;
    }
    for (const item of lost) this.#fail(item, error(), record);
  }

  /** Kills a worker, which then holds the event loop until it is gone, so
   * that `await shutdown()` waits for it. */
  #kill(record: WorkerRecord<I>): void {
    record.worker.kill("SIGKILL");
    this.#hold(record);
  }

  #hold(record: WorkerRecord<I>): void {
    if (record.held) return;
    record.held = true;
    record.worker.hold(true);
  }

  /** Flushes a worker, closes it when its work is over, and lets it hold
   * the event loop only while it owes answers. */
  #tidy(record: WorkerRecord<I>): void {
    if (record.status === "gone") return;
    record.worker.flush();
    const idle = record.inFlight.size === 0;
    if (
      idle && (record.status === "ready" || record.status === "starting") &&
      (record.tasksLeft === 0 ||
        (this.#gate.shutDown && this.#queue.length === 0))
    ) {
      record.status = "closing";
      record.worker.close();
    }
    // A starting worker holds the loop until it is ready, and a closing one
    // until it exits, so that `await shutdown()` is not left hanging.
    if (!idle || record.status !== "ready") {
      this.#hold(record);
    } else if (record.held && record.release === undefined) {
      // Not at once: code that awaits one call and submits the next does
      // so within this task, and letting go of the loop and taking it back
      // costs a round trip's time under Bun (its reads are paused).
      record.release = setTimeout(() => this.#release(record), 0);
    }
  }

  #release(record: WorkerRecord<I>): void {
    record.release = undefined;
    if (record.held && record.idle) {
      record.held = false;
      record.worker.hold(false);
    }
  }

  /** A worker killed to stop a call may still deliver what it wrote: of a
   * stopped worker, only its end counts. */
  #listen(record: WorkerRecord<I>): WorkerListener {
    const stopped = () => record.status === "stopped";
    return {
      ready: () => {
        if (stopped()) return;
        record.wasReady = true;
        if (record.status === "starting") record.status = "ready";
        record.lastAnswerAt = performance.now();
        this.#pump();
      },
      initFailed: (error, stage, module) => {
        if (stopped()) return;
        const machine = record.worker.group;
        const where = [machine && `on ${machine}`, module].filter(Boolean);
        const detail = [...where, message(error)].join(": ");
        this.#break(stage, detail, error);
      },
      answered: (id, ok, value) => {
        if (!stopped()) this.#answered(record, id, ok, value);
      },
      callFailed: (id, error) => {
        if (stopped()) return;
        const item = record.inFlight.remove(id);
        if (item !== undefined) this.#fail(item, error, record);
        // Its room is free; the engine may be flushing its workers now.
        this.#schedule();
      },
      worked: (ms) => {
        if (!stopped()) this.#measure(record, ms);
      },
      answersRead: () => {
        if (stopped()) return;
        // Run dry: the next burst of work starts again at one call.
        if (record.inFlight.size === 0 && this.#queue.length === 0) {
          record.window = 1;
        }
        this.#pump();
      },
      misbehaved: (what, cause) => {
        if (stopped()) return;
        record.status = "closing";
        this.#break("protocol", what, cause);
      },
      exited: (exit) => this.#exited(record, exit),
    };
  }

  #answered(
    record: WorkerRecord<I>,
    id: number,
    ok: boolean,
    value: unknown,
  ): void {
    if (record.inFlight.oldestId !== id) {
      record.status = "closing";
      return this.#break(
        "protocol",
        `a worker answered call ${id}, which it was not running`,
      );
    }
    const item = record.inFlight.shift();
    record.readAnswers++;
    if (item.future.done()) return; // finished by hand
    const failed = item.finish(ok, value);
    this.#failed += failed;
    this.#completed += item.calls - failed;
    if (failed > 0) this.#countGroup(record, failed);
  }

  /** Updates a worker's time per call from what it says it was busy on
   * the calls it answered since it last said so, and its window from that.
   * The worker's own time, not the round trip: a parent slow to read its
   * answers (a consumer that keeps the thread) would shrink the window it
   * needs to keep the worker fed. */
  #measure(record: WorkerRecord<I>, busyMs: number): void {
    if (record.readAnswers === 0) return;
    const sample = busyMs / record.readAnswers;
    record.readAnswers = 0;
    record.lastAnswerAt = performance.now();
    record.perCall += (sample - record.perCall) * SMOOTHING;
    const byTime = Math.floor(AHEAD_MS / record.perCall);
    record.window = Math.max(
      1,
      Math.min(MAX_WINDOW, byTime, 2 * record.window),
    );
  }

  #exited(record: WorkerRecord<I>, exit: WorkerExit): void {
    const { how } = exit;
    const status = record.status;
    record.status = "gone";
    clearTimeout(record.release);
    this.#workers.delete(record);
    const lost = record.inFlight.takeAll();
    if (!this.#gate.broken && status !== "stopped") {
      if (this.#terminating) {
        for (const item of lost) {
          this.#fail(item, this.#host.broken("terminated", how), record);
        }
      } else if (status !== "closing" || lost.length > 0) {
        this.#died(record, exit, lost);
      }
    }
    // Calls lost after a break (a worker killed by it) fail with its error.
    if (this.#gate.broken) {
      for (const item of lost) {
        this.#fail(item, this.#gate.brokenError(), record);
      }
    }
    this.#pump();
  }

  /** A worker died on its own: the pool breaks, or with `onWorkerDeath:
   * "replace"` the calls it held fail, unless it had started none (see
   * `#salvage()`), and another worker takes its place, unless workers die
   * in a loop. */
  #died(record: WorkerRecord<I>, exit: WorkerExit, lost: I[]): void {
    const { how, ...death } = exit;
    if (!this.#replaceDead) return this.#break("died", how);
    if (!this.#crashLoop) {
      return this.#salvage(record, lost, () => new WorkerDiedError(how, death));
    }
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
    this.#salvage(record, lost, () => new WorkerDiedError(how, death));
  }

  /** Fails every queued and running call with the pool's `Broken…` error,
   * refuses new ones, and ends every worker. */
  #break(reason: BreakReason, detail: string, cause?: unknown): void {
    const broken = () => this.#host.broken(reason, detail, cause);
    if (!this.#gate.break(broken)) return;
    for (const item of this.#queue.takeAll()) this.#fail(item, broken());
    for (const record of this.#workers) {
      for (const item of record.inFlight.takeAll()) {
        this.#fail(item, broken(), record);
      }
      this.#kill(record);
    }
    clearTimeout(this.#retry);
    this.#settleGone();
  }

  /** Fails a call the pool took, unless it is done already, and counts it
   * (for the group of the worker that held it, if any). */
  #fail(item: I, error: unknown, record?: WorkerRecord<I>): void {
    if (item.future.done()) return;
    this.#failed += item.calls;
    if (record !== undefined) this.#countGroup(record, item.calls);
    item.future.setException(error);
  }

  #countGroup(record: WorkerRecord<I>, failed: number): void {
    const group = record.worker.group;
    if (group === undefined) return;
    this.#groupFailed.set(group, (this.#groupFailed.get(group) ?? 0) + failed);
  }

  #settleGone(): void {
    if (
      this.#gone === undefined || this.#workers.size > 0 ||
      !this.#nothingToSend()
    ) {
      return;
    }
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#gone.resolve();
    this.#gone = undefined;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
