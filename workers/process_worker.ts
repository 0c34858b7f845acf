/**
 * The entry point of a `ProcessPoolExecutor` worker process.
 *
 * Frames arrive on stdin (`init` first, then `call` and `batch`) and the
 * answers leave on stdout. Every complete frame of one read is handled
 * before the answers go out together in one write: a process wake-up costs
 * more than many small calls, so both directions batch. Calls run one at a
 * time, in the order they came: a sync function runs inline, an async one
 * is awaited before the next call starts. `console` output goes to stderr.
 * The worker exits when stdin ends, which is how it notices that the pool
 * closed it or died; a watchdog thread (`_watchdog.ts`) ends it when the pool
 * dies while a task keeps it busy.
 *
 * This module imports only the protocol, the codec, the stdio adapters and
 * the call handling it shares with the Web Worker entry.
 *
 * @module
 */
import { decode, encode, sectionsOf } from "./_codec.ts";
import {
  FrameReader,
  FrameTooLargeError,
  FrameWriter,
  type ParentMessage,
  type WorkerMessage,
} from "./_protocol.ts";
import type { InitStage } from "./_messages.ts";
import { openStdio } from "./_stdio.ts";
import { readStdinOnThread, watchParent } from "./_watchdog.ts";
import {
  encodeError as encodeWith,
  FunctionTable,
  Inbox,
  initFailure,
  runBatch,
  runCall,
  sendableError as sendableWith,
} from "./_dispatch.ts";

/** The parent's frames are trusted: any length a prefix can express. */
const READ_LIMIT = 0xffff_ffff;

/** The exit code for a parent that broke the protocol (sysexits' EX_DATAERR). */
const EXIT_BAD_INPUT = 65;
/** The exit code for a stdin that failed (sysexits' EX_NOINPUT). */
const EXIT_STDIN_LOST = 66;

/** Set by the bootstrap of a worker on another machine (see
 * `executor/_remote_boot.ts`), whose modules came over its stdin and run
 * from `data:` URLs: their names in the package, by URL. */
const REMOTE = Symbol.for("@concurrent/futures/remote");
const moduleNames = (globalThis as Record<symbol, unknown>)[REMOTE] as
  | Map<string, string>
  | undefined;
const remote = moduleNames !== undefined;
// First, before anything can keep this thread busy: a local worker watches
// its parent; a remote one reads its stdin on a thread, which sees the end
// of it (or the link's silence) whatever this thread runs.
if (!remote) await watchParent();
const stdio = await openStdio();
const stdin = remote ? await readStdinOnThread() : stdio.chunks();
const table = new FunctionTable();
let writer = new FrameWriter();

/** Writes the frames queued so far; after answers, with how long the worker
 * was busy on them (`busyMs`, from the inbox). */
function flush(busyMs?: number): void {
  if (writer.size === 0) return;
  if (busyMs !== undefined) send({ t: "busy", ms: busyMs });
  while (writer.size > 0) stdio.write(writer.take());
}

/** Runs one message; returns a promise only when it must be awaited. */
function handle(message: ParentMessage): Promise<void> | undefined {
  switch (message.t) {
    case "init":
      return init(message);
    case "ping": // a remote worker's heartbeat: its stdin thread heard it
      return undefined;
    case "call":
    case "batch": {
      const { id } = message;
      let fn;
      let args;
      try {
        fn = table.resolve(message.fn);
        args = decode(message.args, message.sections) as unknown[];
      } catch (error) {
        answer(id, false, error);
        return undefined;
      }
      return message.t === "call"
        ? runCall(id, fn, args, answer)
        : runBatch(id, fn, args as unknown[][], answerBatch);
    }
  }
}

async function init(
  message: Extract<ParentMessage, { t: "init" }>,
): Promise<void> {
  writer = new FrameWriter(message.maxFrameBytes, fromHex(message.mark));
  let stage: InitStage = "modules";
  try {
    await table.load(message.modules);
    stage = "initializer";
    if (message.init !== undefined) {
      const fn = table.resolve(message.init);
      const args = message.args === undefined
        ? []
        : decode(message.args, message.sections);
      await fn(...args as unknown[]);
    }
  } catch (thrown) {
    const { error, module } = initFailure(thrown);
    send({ t: "init-failed", error: encodeError(error), stage, module });
    return;
  }
  send({ t: "ready", cores: navigator.hardwareConcurrency });
  // Out before any call runs: until the pool reads it, it knows that this
  // worker started none of its calls, and may give them to another.
  flush();
}

function answer(id: number, ok: boolean, value: unknown): void {
  try {
    send(
      ok
        ? { t: "ok", id, value: encode(value, "result") }
        : { t: "err", id, error: encodeError(value) },
      ok ? "the result" : "the exception",
    );
  } catch (error) {
    // The result cannot be sent (DataCloneError) or is too large: the
    // call fails, and the worker goes on.
    send({ t: "err", id, error: encodeError(sendFailure(error)) });
  }
}

function answerBatch(id: number, values: unknown[], failures: unknown[]): void {
  try {
    let wire: unknown;
    try {
      wire = encode(batchAnswer(values, failures), "result");
    } catch {
      // Some item's result cannot be sent: that item fails, not the batch.
      sendableItems(values, failures);
      wire = encode(batchAnswer(values, failures), "result");
    }
    send({ t: "ok", id, value: wire }, "the results");
  } catch (error) {
    send({ t: "err", id, error: encodeError(sendFailure(error)) });
  }
}

function send(message: WorkerMessage, what?: string): void {
  const wire = message.t === "ok"
    ? message.value
    : "error" in message
    ? message.error
    : undefined;
  writer.add(message, sectionsOf(wire), what);
}

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** The error for an answer that could not be sent: a frame too large is
 * kept small, since it must fit where the answer did not. */
function sendFailure(error: unknown): unknown {
  if (error instanceof FrameTooLargeError) error.stack = undefined;
  return error;
}

/** The value of a batch's answer; see `ParentMessage`. */
function batchAnswer(values: unknown[], failures: unknown[]): unknown[] {
  return failures.length === 0 ? [values] : [values, failures];
}

/** Fails, in place, the items whose result cannot be sent, with the error
 * saying why, and makes every item's exception one that can be sent. */
function sendableItems(values: unknown[], failures: unknown[]): void {
  const failed = new Set<unknown>();
  for (let k = 0; k < failures.length; k += 2) {
    failed.add(failures[k]);
    failures[k + 1] = sendableError(failures[k + 1]);
  }
  for (let i = 0; i < values.length; i++) {
    if (failed.has(i)) continue;
    try {
      encode(values[i], `result of item ${i + 1}`);
    } catch (error) {
      values[i] = null;
      failures.push(i, error);
    }
  }
}

/** The wire of a thrown value, in this worker's codec. */
function encodeError(error: unknown): unknown {
  return encodeWith(readable(error), encode);
}

/** A thrown value that can be sent, in this worker's codec. */
function sendableError(error: unknown): unknown {
  return sendableWith(readable(error), encode);
}

/** On another machine, an error whose message and stack name this
 * package's modules as in the package, rather than by their `data:` URLs,
 * each as long as its module. */
function readable(error: unknown): unknown {
  if (moduleNames === undefined || !(error instanceof Error)) return error;
  const { message, stack } = error;
  if (typeof message === "string") error.message = withNames(message);
  if (typeof stack === "string") error.stack = withNames(stack);
  return error;
}

/** A `data:` URL, whole or as Deno's stacks shorten it (its first and last
 * 20 characters around "......"). */
const DATA_URL = /data:[\w/+.-]+;base64,[\w+/=]+(?:\.{6}[\w+/=]+)?/g;

function withNames(text: string): string {
  if (!text.includes("data:")) return text;
  return text.replace(DATA_URL, (url) => {
    const [head, tail = ""] = url.split("......");
    for (const [module, name] of moduleNames!) {
      if (module.startsWith(head) && module.endsWith(tail)) return name;
    }
    return url;
  });
}

const inbox = new Inbox<ParentMessage>(handle, flush);
const reader = new FrameReader(READ_LIMIT);
try {
  for await (const chunk of stdin) {
    let messages: ParentMessage[];
    try {
      messages = reader.push(chunk) as ParentMessage[];
    } catch (error) {
      console.error("process_worker: cannot read the pool's frames:", error);
      await stdio.exit(EXIT_BAD_INPUT);
    }
    inbox.receive(messages!);
  }
} catch (error) {
  console.error("process_worker: its stdin failed (closed by a task?):", error);
  await stdio.exit(EXIT_STDIN_LOST);
}
// stdin ended: the pool closed it once this worker had nothing in flight,
// or the parent died. Either way nobody waits for anything more.
await stdio.exit(0);
