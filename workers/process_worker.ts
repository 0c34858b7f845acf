/**
 * The entry point of a `ProcessPoolExecutor` worker process.
 *
 * Frames arrive on stdin (`init` first, then `call` and `batch`) and the
 * answers leave on stdout. Every complete frame of one read is handled
 * before the answers go out together in one write: a process wake-up costs
 * more than many small calls, so both directions batch. Calls run one at a
 * time, in the order they came: a sync function runs inline, an async one
 * is awaited before the next call starts. `console` output goes to stderr.
 * The worker exits when stdin ends, which is also how it notices that its
 * parent died.
 *
 * This module imports only the protocol, the codec, the stdio adapters and
 * the call handling it shares with the Web Worker entry.
 *
 * @module
 */
import { decode, encode, sectionsOf } from "./_codec.ts";
import {
  type FnRef,
  FrameReader,
  FrameTooLargeError,
  FrameWriter,
  type InitStage,
  type ParentMessage,
  type WorkerMessage,
} from "./_protocol.ts";
import { openStdio, type WorkerStdio } from "./_stdio.ts";
import {
  encodeError as encodeWith,
  type Fn,
  FunctionTable,
  isThenable,
  sendableError as sendableWith,
} from "./_dispatch.ts";

/** The parent's frames are trusted: any length a prefix can express. */
const READ_LIMIT = 0xffff_ffff;

/** The exit code for a parent that broke the protocol (sysexits' EX_DATAERR). */
const EXIT_BAD_INPUT = 65;

/** Runs the calls of one pool connection, in order. */
class CallRunner {
  readonly #stdio: WorkerStdio;
  #writer = new FrameWriter();
  readonly #functions = new FunctionTable();
  #inbox: ParentMessage[] = [];
  #next = 0;
  #running = false;

  constructor(stdio: WorkerStdio) {
    this.#stdio = stdio;
  }

  /** Queues the messages of one read and runs them unless a call is
   * already being awaited (which will go on to run them). */
  receive(messages: ParentMessage[]): void {
    for (const message of messages) this.#inbox.push(message);
    if (!this.#running) this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    while (this.#next < this.#inbox.length) {
      const message = this.#inbox[this.#next++];
      const pending = this.#handle(message);
      if (pending !== undefined) {
        // Answers ready so far must not wait behind an async call.
        this.#flush();
        await pending;
      }
    }
    this.#inbox = [];
    this.#next = 0;
    this.#running = false;
    this.#flush();
  }

  #flush(): void {
    while (this.#writer.size > 0) this.#stdio.write(this.#writer.take());
  }

  /** Runs one message; returns a promise only when it must be awaited. */
  #handle(message: ParentMessage): Promise<void> | undefined {
    switch (message.t) {
      case "init":
        return this.#init(message);
      case "call":
        return this.#call(
          message.id,
          message.fn,
          message.args,
          message.sections,
        );
      case "batch":
        return this.#batch(
          message.id,
          message.fn,
          message.args,
          message.sections,
        );
    }
  }

  async #init(
    message: Extract<ParentMessage, { t: "init" }>,
  ): Promise<void> {
    this.#writer = new FrameWriter(message.maxFrameBytes);
    let stage: InitStage = "modules";
    try {
      await this.#functions.load(message.modules);
      stage = "initializer";
      if (message.init !== undefined) {
        const fn = this.#functions.resolve(message.init);
        const args = message.args === undefined
          ? []
          : decode(message.args, message.sections);
        await fn(...args as unknown[]);
      }
    } catch (error) {
      this.#send({ t: "init-failed", error: encodeError(error), stage });
      return;
    }
    this.#send({ t: "ready" });
  }

  #call(
    id: number,
    ref: FnRef,
    wire: unknown,
    sections: ArrayBuffer[] | undefined,
  ): Promise<void> | undefined {
    let value: unknown;
    try {
      const args = decode(wire, sections) as unknown[];
      value = this.#functions.resolve(ref)(...args);
    } catch (error) {
      this.#answer(id, false, error);
      return undefined;
    }
    if (!isThenable(value)) {
      this.#answer(id, true, value);
      return undefined;
    }
    return Promise.resolve(value).then(
      (result) => this.#answer(id, true, result),
      (error) => this.#answer(id, false, error),
    );
  }

  #batch(
    id: number,
    ref: FnRef,
    wire: unknown,
    sections: ArrayBuffer[] | undefined,
  ): Promise<void> | undefined {
    let fn: Fn;
    let columns: unknown[][];
    try {
      fn = this.#functions.resolve(ref);
      columns = decode(wire, sections) as unknown[][];
    } catch (error) {
      this.#answer(id, false, error);
      return undefined;
    }
    const size = columns[0].length;
    const values: unknown[] = [];
    /** `index, error` pairs, flat. */
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
      this.#answerBatch(id, values, failures);
      return undefined;
    };
    return runFrom(0);
  }

  #answer(id: number, ok: boolean, value: unknown): void {
    try {
      this.#send(
        ok
          ? { t: "ok", id, value: encode(value, "result") }
          : { t: "err", id, error: encodeError(value) },
      );
    } catch (error) {
      // The result cannot be sent (DataCloneError) or is too large: the
      // call fails, and the worker goes on.
      this.#send({ t: "err", id, error: encodeError(sendFailure(error, ok)) });
    }
  }

  #answerBatch(id: number, values: unknown[], failures: unknown[]): void {
    try {
      let wire: unknown;
      try {
        wire = encode(batchAnswer(values, failures), "result");
      } catch {
        // Some item's result cannot be sent: that item fails, not the batch.
        sendableItems(values, failures);
        wire = encode(batchAnswer(values, failures), "result");
      }
      this.#send({ t: "ok", id, value: wire });
    } catch (error) {
      this.#send({
        t: "err",
        id,
        error: encodeError(sendFailure(error, true)),
      });
    }
  }

  #send(message: WorkerMessage): void {
    const wire = message.t === "ok"
      ? message.value
      : message.t === "ready"
      ? undefined
      : message.error;
    this.#writer.add(message, sectionsOf(wire));
  }
}

/** The error for an answer that could not be sent. */
function sendFailure(error: unknown, ok: boolean): unknown {
  if (!(error instanceof FrameTooLargeError)) return error;
  const what = ok ? "result" : "exception";
  const failure = new FrameTooLargeError(error.bytes, error.limit);
  failure.message =
    `the ${what} is ${error.bytes} bytes, over maxFrameBytes (${error.limit} bytes)`;
  // Kept small: this error must fit in a frame where the answer did not.
  failure.stack = undefined;
  return failure;
}

/** Item `i` of a batch: `fn` called with row `i` of the argument columns. */
function callItem(fn: Fn, columns: unknown[][], i: number): unknown {
  switch (columns.length) {
    case 1:
      return fn(columns[0][i]);
    case 2:
      return fn(columns[0][i], columns[1][i]);
    default:
      return fn(...columns.map((column) => column[i]));
  }
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
  return encodeWith(error, encode);
}

/** A thrown value that can be sent, in this worker's codec. */
function sendableError(error: unknown): unknown {
  return sendableWith(error, encode);
}

const stdio = await openStdio();
const runner = new CallRunner(stdio);
const reader = new FrameReader(READ_LIMIT);
try {
  for await (const chunk of stdio.chunks()) {
    runner.receive(reader.push(chunk) as ParentMessage[]);
  }
} catch (error) {
  console.error("process_worker: cannot read the pool's frames:", error);
  await stdio.exit(EXIT_BAD_INPUT);
}
// stdin ended: the pool closed it once this worker had nothing in flight,
// or the parent died. Either way nobody waits for anything more.
await stdio.exit(0);
