/**
 * The Deno adapter of `_child_process.ts`: children started with `Deno.Command`.
 *
 * `ChildProcess.unref()` in Deno also unrefs the pending reads on the
 * child's stdout and stderr, so an idle, unref'd child lets the parent exit.
 *
 * @module
 */
import {
  type ChildExit,
  type ChildProcess,
  drainWithGrace,
  rethrowLater,
  spawnError,
  type SpawnOptions,
  StderrTail,
} from "./_child_process.ts";

/** A Linux pipe holds 64 KiB, so no single read returns more. */
const READ_BYTES = 64 * 1024;
/** Small queued chunks are joined into one write up to this size; larger
 * ones go out alone, as copying them would cost more than a write. */
const JOIN_BYTES = 64 * 1024;

/**
 * Starts a child with piped stdin, stdout and stderr.
 *
 * @param options What to run and where its output goes.
 * @returns The running child.
 * @throws {Error} When the program cannot be started (not found, not allowed).
 */
export function spawn(options: SpawnOptions): ChildProcess {
  const [program, ...args] = options.command;
  if (program === undefined) throw new TypeError("the command is empty");
  let process: Deno.ChildProcess;
  try {
    process = new Deno.Command(program, {
      args,
      cwd: options.cwd,
      env: options.env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw spawnError(program, error);
  }
  return new DenoChild(process, options);
}

type StdinState = "open" | "closing" | "closed";

class DenoChild implements ChildProcess {
  readonly pid: number;
  readonly #process: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #tail = new StderrTail();
  readonly #readers: ReadableStreamGenericReader[] = [];
  #queue: Uint8Array[] = [];
  #stdinState: StdinState = "open";
  #pumping = false;
  /** Whether it exited: Deno then has let go of it, and refuses ref(). */
  #exited = false;
  readonly #onPipeClosed: SpawnOptions["onPipeClosed"];

  constructor(process: Deno.ChildProcess, options: SpawnOptions) {
    this.pid = process.pid;
    this.#onPipeClosed = options.onPipeClosed;
    this.#process = process;
    this.#stdin = process.stdin.getWriter();
    const drained = Promise.all([
      this.#readStdout(options.onStdout).finally(() =>
        options.onPipeClosed?.("stdout")
      ),
      this.#readStderr(),
    ]);
    this.#finish(drained).then(options.onExit).catch(rethrowLater);
  }

  write(bytes: Uint8Array): void {
    if (this.#stdinState !== "open" || bytes.length === 0) return;
    this.#queue.push(bytes);
    this.#schedule();
  }

  closeStdin(): void {
    if (this.#stdinState !== "open") return;
    this.#stdinState = "closing";
    this.#schedule();
  }

  kill(signal: "SIGTERM" | "SIGKILL"): void {
    try {
      this.#process.kill(signal);
    } catch {
      // Already exited: onExit reports how.
    }
  }

  ref(): void {
    if (!this.#exited) this.#process.ref();
  }

  unref(): void {
    if (!this.#exited) this.#process.unref();
  }

  stderrTail(): string {
    return this.#tail.text();
  }

  /** Starts the one writer at the end of this turn, so that every chunk
   * queued in the turn goes out in one write. */
  #schedule(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    queueMicrotask(() => this.#pump());
  }

  async #pump(): Promise<void> {
    try {
      while (this.#queue.length > 0) await this.#stdin.write(this.#take());
      if (this.#stdinState === "closing") {
        this.#stdinState = "closed";
        await this.#stdin.close();
      }
    } catch {
      // Broken pipe: the child closed its stdin, or is gone or going.
      this.#stdinState = "closed";
      this.#queue = [];
      this.#onPipeClosed?.("stdin");
    } finally {
      this.#pumping = false;
    }
  }

  #take(): Uint8Array {
    const queue = this.#queue;
    let count = 1;
    let size = queue[0].length;
    while (count < queue.length && size + queue[count].length <= JOIN_BYTES) {
      size += queue[count++].length;
    }
    if (count === 1) return queue.shift()!;
    const joined = new Uint8Array(size);
    let offset = 0;
    for (const chunk of queue.splice(0, count)) {
      joined.set(chunk, offset);
      offset += chunk.length;
    }
    return joined;
  }

  async #readStdout(onStdout: (chunk: Uint8Array) => void): Promise<void> {
    // A BYOB reader refills one buffer; copying out each read's few bytes is
    // cheaper than the fresh 64 KiB buffer the default reader allocates.
    const reader = this.#process.stdout.getReader({ mode: "byob" });
    this.#readers.push(reader);
    let buffer = new ArrayBuffer(READ_BYTES);
    try {
      for (;;) {
        const { value, done } = await reader.read(new Uint8Array(buffer));
        if (done || value === undefined) return;
        buffer = value.buffer;
        try {
          onStdout(value.slice());
        } catch (error) {
          rethrowLater(error);
        }
      }
    } catch {
      // Cancelled after the grace period: there is no more output to read.
    }
  }

  async #readStderr(): Promise<void> {
    const reader = this.#process.stderr.getReader();
    this.#readers.push(reader);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        this.#tail.push(value);
        await forwardToStderr(value);
      }
    } catch {
      // Cancelled after the grace period.
    }
  }

  async #finish(drained: Promise<unknown>): Promise<ChildExit> {
    const status = await this.#process.status;
    this.#exited = true;
    await drainWithGrace(drained, () => {
      for (const reader of this.#readers) reader.cancel().catch(() => {});
    });
    // Nobody will read what is still queued: drop it and free the pipe.
    this.#stdinState = "closed";
    this.#queue = [];
    await this.#stdin.abort().catch(() => {});
    return status.signal === null
      ? { code: status.code, signal: null }
      : { code: null, signal: status.signal };
  }
}

async function forwardToStderr(chunk: Uint8Array): Promise<void> {
  try {
    for (let offset = 0; offset < chunk.length;) {
      offset += await Deno.stderr.write(chunk.subarray(offset));
    }
  } catch {
    // The parent's stderr is closed: the tail still has the lines.
  }
}
