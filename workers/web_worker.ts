/**
 * The entry point of a `WorkerPoolExecutor` worker: a module Web Worker.
 *
 * Each message from the pool is an array: `init` first, then `call` and
 * `batch`. Calls run one at a time, in the order they came: a
 * sync function runs inline, an async one is awaited before the next call
 * starts. The answers to everything that arrived together leave together,
 * in one `postMessage`, as soon as the calls before an awaited one are done.
 *
 * Values travel by structured clone. A result that structured clone
 * rejects fails its own call with a `DataCloneError` (the codec's message
 * says where the culprit sits) and the worker goes on. Exceptions travel
 * in the value codec, which keeps their name, class and own properties.
 * The codec loads once the first answers are out, since a worker that
 * loads it first answers its first call later (by 2 ms under Bun, where a
 * bare worker answers in 2 ms): answers wait for it only when an exception
 * comes before it.
 *
 * Faults are not swallowed: an error thrown, or a rejection left
 * unhandled, outside any call is posted to the pool (so that the pool has
 * the error itself, which the `error` event does not carry), which then
 * ends the worker. Once it is posted, the runtime's own report is
 * prevented: under Deno, its `error` event could reach the pool first.
 * `self.close()` (and `Deno.exit()`, `process.exit()`) posts a `closing`
 * message first, since Deno gives the parent no event for it.
 *
 * This module imports only the protocols, the dispatch and the codec.
 *
 * @module
 */
import {
  encodeError,
  type Fn,
  FunctionTable,
  Inbox,
  initFailure,
  runBatch,
  runCall,
} from "./_dispatch.ts";
import type { FnRef, InitStage } from "./_messages.ts";
import { movePacked, packNumbers } from "./_number_column.ts";
import { currentRuntime } from "./_runtime.ts";
import { isTransfer } from "./_transfer.ts";
import type {
  WebParentMessage,
  WebWorkerMessage,
  WorkerScope,
} from "./_web_protocol.ts";

type Codec = typeof import("./_codec.ts");

/** A namespace with an `exit` function: `Deno`, `process`. */
interface Exiting {
  exit?: (code?: number) => never;
}

// Node's worker threads have no Web Worker scope: one is made for them.
const scope: WorkerScope = currentRuntime === "node"
  ? (await import("./_node_scope.ts")).nodeScope()
  : globalThis as unknown as WorkerScope;
const table = new FunctionTable();

let codec: Codec | undefined;
let codecLoaded: Promise<void> | undefined;

/** Starts loading the codec, once: after the first answers went out, or
 * when an exception needs it before. */
function loadCodec(): Promise<void> {
  return codecLoaded ??= import("./_codec.ts").then((module) => {
    codec = module;
  });
}

// ---------------------------------------------------------------------------
// Answers: queued here, posted together by flush().

/** An answer that needs the codec, made once it is loaded. */
class Deferred {
  readonly make: (codec: Codec) => WebWorkerMessage;
  constructor(make: (codec: Codec) => WebWorkerMessage) {
    this.make = make;
  }
}

let outbox: (WebWorkerMessage | Deferred)[] = [];
/** Each queued message's transfer list, once any message has one. */
let transfers: (readonly Transferable[] | undefined)[] | undefined;
/** How many queued answers are `Deferred`. */
let deferred = 0;
/** Whether a flush waits for the codec: no other may overtake it. */
let waiting = false;

function post(message: WebWorkerMessage, moved?: readonly Transferable[]) {
  if (moved !== undefined && moved.length > 0) {
    transfers ??= outbox.map(() => undefined);
    transfers.push(moved);
  } else transfers?.push(undefined);
  outbox.push(message);
}

/** Queues the answer `make` builds with the codec. */
function postWithCodec(make: (codec: Codec) => WebWorkerMessage): void {
  if (codec !== undefined) return post(make(codec));
  transfers?.push(undefined);
  outbox.push(new Deferred(make));
  deferred++;
}

/** Posts the answers queued so far; after answers, with how long the worker
 * was busy on them (`busyMs`, from the inbox). */
function flush(busyMs?: number): void {
  if (outbox.length === 0) return;
  if (busyMs !== undefined) post({ t: "busy", ms: busyMs });
  if (waiting) return;
  if (deferred > 0 && codec === undefined) return flushOnceLoaded();
  const c = codec;
  const messages = deferred === 0
    ? outbox as WebWorkerMessage[]
    : outbox.map((entry) => entry instanceof Deferred ? entry.make(c!) : entry);
  const lists = transfers;
  outbox = [];
  transfers = undefined;
  deferred = 0;
  const sent = send(messages, lists);
  loadCodec();
  if (sent < messages.length) {
    // A result cannot be cloned, and the codec that says why is not loaded
    // yet: the rest waits for it.
    outbox = messages.slice(sent);
    transfers = lists?.slice(sent);
    flushOnceLoaded();
  }
}

function flushOnceLoaded(): void {
  if (waiting) return;
  waiting = true;
  loadCodec().then(() => {
    waiting = false;
    flush();
  });
}

/**
 * Posts `messages` in order, and returns how many it posted: all of them,
 * unless one cannot be cloned before the codec is loaded.
 *
 * Under Deno, a postMessage that fails detaches the buffers of its transfer
 * list all the same: an answer whose buffers move goes alone, so that no
 * other answer's failure takes its buffers.
 */
function send(
  messages: WebWorkerMessage[],
  lists: (readonly Transferable[] | undefined)[] | undefined,
): number {
  if (lists === undefined) return postRun(messages, 0, messages.length);
  let start = 0;
  for (let i = 0; i < messages.length; i++) {
    const moved = lists[i];
    if (moved === undefined) continue;
    const reached = postRun(messages, start, i);
    if (reached < i) return reached;
    if (!postAlone(messages[i], moved)) return i;
    start = i + 1;
  }
  return postRun(messages, start, messages.length);
}

/** Posts `messages[start..end)` in one message, or one by one when some
 * result cannot be cloned, to fail that call only; returns how far it got. */
function postRun(
  messages: WebWorkerMessage[],
  start: number,
  end: number,
): number {
  if (start === end) return end;
  const run = end - start === messages.length
    ? messages
    : messages.slice(start, end);
  try {
    scope.postMessage(run, movedValues(run));
    return end;
  } catch {
    for (let i = start; i < end; i++) {
      if (!postAlone(messages[i], [])) return i;
    }
    return end;
  }
}

/** The buffers of a run's batch results, which move, when every answer in
 * it is a packed batch (see `_number_column.ts`): nothing in the run can
 * then fail to clone. */
function movedValues(run: WebWorkerMessage[]): ArrayBuffer[] {
  const moved: ArrayBuffer[] = [];
  for (const message of run) {
    if (message.t === "busy") continue;
    if (message.t !== "batch" || !movePacked(message.values, moved)) return [];
  }
  return moved;
}

/** Posts one answer; one whose value cannot be cloned becomes the error
 * saying why, which needs the codec: without it, returns `false`. */
function postAlone(
  message: WebWorkerMessage,
  moved: readonly Transferable[],
): boolean {
  try {
    scope.postMessage([message], moved as Transferable[]);
  } catch (error) {
    if (codec === undefined) return false;
    scope.postMessage([uncloneable(message, error, codec)]);
  }
  return true;
}

/** The message to post instead of `message`, whose value structured
 * clone rejected with `error`. */
function uncloneable(
  message: WebWorkerMessage,
  error: unknown,
  codec: Codec,
): WebWorkerMessage {
  if (message.t === "ok") {
    const failure = cloneFailure(message.value, error, "result", codec);
    return {
      t: "err",
      id: message.id,
      error: encodeError(failure, codec.encode),
    };
  }
  // Only values can fail: every other message holds codec wires.
  if (message.t !== "batch") throw error;
  // The items whose result cannot be cloned fail, not the batch.
  // Not packed: a Float64Array always clones.
  const { id } = message;
  const values = message.values as unknown[];
  const failures = message.failures?.slice() ?? [];
  values.forEach((value, i) => {
    try {
      structuredClone(value);
    } catch (failure) {
      const why = cloneFailure(
        value,
        failure,
        `result of item ${i + 1}`,
        codec,
      );
      values[i] = null;
      failures.push(i, encodeError(why, codec.encode));
    }
  });
  return { t: "batch", id, values, failures };
}

/**
 * The error for a value that structured clone rejected: the codec's, which
 * says where the culprit sits (`result → .cb: function cannot be sent`),
 * else one carrying the runtime's message.
 */
function cloneFailure(
  value: unknown,
  error: unknown,
  where: string,
  codec: Codec,
): Error {
  try {
    codec.encode(value, where);
  } catch (precise) {
    if (precise instanceof codec.DataCloneError) return precise;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new codec.DataCloneError(`${where} cannot be sent: ${reason}`);
}

// ---------------------------------------------------------------------------
// Messages from the pool.

function handle(message: WebParentMessage): Promise<void> | undefined {
  switch (message.t) {
    case "init":
      return init(message);
    case "call":
      return call(message);
    case "batch":
      return batch(message);
  }
}

async function init(
  message: Extract<WebParentMessage, { t: "init" }>,
): Promise<void> {
  let stage: InitStage = "modules";
  try {
    await table.load(message.modules);
    stage = "initializer";
    if (message.init !== undefined) {
      await table.resolve(message.init)(...message.args ?? []);
    }
  } catch (thrown) {
    const { error, module } = initFailure(thrown);
    postWithCodec((c) => ({
      t: "init-failed",
      error: encodeError(error, c.encode),
      stage,
      module,
    }));
    return;
  }
  post({ t: "ready" });
  // Out before any call runs: until the pool reads it, it knows that this
  // worker started none of its calls, and may give them to another.
  flush();
}

function call(
  message: Extract<WebParentMessage, { t: "call" }>,
): Promise<void> | undefined {
  const id = message.id;
  const fn = resolve(message);
  if (fn === undefined) return undefined;
  return runCall(id, fn, message.args, answer);
}

/** The function a call or batch names; `undefined` once the error saying
 * why there is none is answered. */
function resolve(message: { id: number; fn: FnRef }): Fn | undefined {
  try {
    return table.resolve(message.fn);
  } catch (error) {
    answer(message.id, false, error);
    return undefined;
  }
}

function answer(id: number, ok: boolean, value: unknown): void {
  if (!ok) {
    postWithCodec((c) => ({
      t: "err",
      id,
      error: encodeError(value, c.encode),
    }));
  } else if (isTransfer(value)) {
    post({ t: "ok", id, value: value.value }, value.buffers);
  } else post({ t: "ok", id, value });
}

function batch(
  message: Extract<WebParentMessage, { t: "batch" }>,
): Promise<void> | undefined {
  const fn = resolve(message);
  if (fn === undefined) return undefined;
  return runBatch(message.id, fn, message.args, answerBatch);
}

function answerBatch(id: number, values: unknown[], failures: unknown[]): void {
  let moved: Transferable[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!isTransfer(value)) continue;
    (moved ??= []).push(...value.buffers);
    values[i] = value.value;
  }
  if (failures.length === 0) {
    return post({ t: "batch", id, values: packNumbers(values) }, moved);
  }
  postWithCodec((c) => {
    for (let k = 1; k < failures.length; k += 2) {
      failures[k] = encodeError(failures[k], c.encode);
    }
    return { t: "batch", id, values, failures };
  });
}

const inbox = new Inbox<WebParentMessage>(handle, flush);

// ---------------------------------------------------------------------------
// Faults and self-closing. Their message goes at once, whatever waits for
// the codec: the worker is about to end.

let closing = false;
let faulted = false;

/** Tells the pool of a fault, once; returns whether it was told (now or
 * before), which ends this worker. */
function fault(what: "error" | "rejection", error: unknown): boolean {
  if (closing) return false;
  if (faulted) return true;
  inbox.stop();
  flush();
  try {
    postFault(what, error);
  } catch {
    // Nothing told the pool: the runtime's own report must.
    return false;
  }
  faulted = true;
  return true;
}

function postFault(what: "error" | "rejection", error: unknown): void {
  if (codec !== undefined) {
    const wire = encodeError(error, codec.encode);
    return scope.postMessage([{ t: "fault", what, error: wire }]);
  }
  // Without the codec, the error itself, by structured clone.
  try {
    scope.postMessage([{ t: "fault", what, error, raw: true }]);
  } catch {
    scope.postMessage([{ t: "fault", what, error: String(error), raw: true }]);
  }
}

function closingBy(how: string): void {
  if (closing) return;
  closing = true;
  inbox.stop();
  flush();
  scope.postMessage([{ t: "closing", how }]);
}

/** Makes `holder.exit` say that the worker is closing before it exits. */
function announceExit(holder: Exiting | undefined, name: string): void {
  const exit = holder?.exit;
  if (typeof exit !== "function") return;
  try {
    holder!.exit = (code?: number): never => {
      closingBy(`${name}(${code ?? ""})`);
      return exit.call(holder, code);
    };
  } catch {
    // Read-only: the runtime's own signal (Bun's `close` event) remains.
  }
}

const globals = globalThis as { Deno?: Exiting; process?: Exiting };
// Deno's process.exit() calls Deno.exit(); and merely reading
// `globalThis.process` costs a Deno worker its Node layer (~14 ms at start).
if (globals.Deno !== undefined) announceExit(globals.Deno, "Deno.exit");
else announceExit(globals.process, "process.exit");
const nativeClose = scope.close?.bind(scope);
scope.close = (): void => {
  closingBy("self.close()");
  // Bun's and Node's workers have no close(): process.exit() ends the
  // worker alone.
  if (nativeClose !== undefined) nativeClose();
  else globals.process?.exit?.(0);
};

// The worker reports its own faults, and the pool ends it. Left to its
// default, Deno would also end it and report the error to the pool, by a
// path of its own that can overtake the fault message; so the default is
// prevented once the pool is told, and only then.
scope.addEventListener("error", (event) => {
  const { error, message } = event as ErrorEvent;
  if (fault("error", error ?? message)) event.preventDefault();
});
scope.addEventListener("unhandledrejection", (event) => {
  if (fault("rejection", (event as PromiseRejectionEvent).reason)) {
    event.preventDefault();
  }
});
scope.addEventListener("messageerror", () => {
  fault(
    "error",
    new Error("a message from the pool could not be deserialized"),
  );
});

scope.onmessage = (event: MessageEvent): void => {
  inbox.receive(event.data as WebParentMessage[]);
};
