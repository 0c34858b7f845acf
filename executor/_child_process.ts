/**
 * The contract between the process pool and the spawn adapters
 * (`_spawn_deno.ts`, `_spawn_bun.ts`, `_spawn_node.ts`): how a worker
 * subprocess is started and spoken to, and the helpers every adapter uses.
 *
 * @module
 */

/** How a child process ended: an exit code, or the signal that killed it. */
export interface ChildExit {
  /** The exit code, or `null` when a signal ended the process. */
  readonly code: number | null;
  /** The signal's name (`"SIGKILL"`), or `null` when the process exited. */
  readonly signal: string | null;
}

/** What to run and where its output goes. */
export interface SpawnOptions {
  /** The command line; `command[0]` is the program, looked up on `PATH`. */
  readonly command: readonly string[];
  /** Variables added to the parent's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** The working directory; the parent's by default. */
  readonly cwd?: string;
  /** Called with each stdout chunk, in order. The chunk is the callee's to
   * keep. Must not throw: an exception is rethrown as an uncaught error. */
  readonly onStdout: (chunk: Uint8Array) => void;
  /** Called when the child's stdout reaches its end (or fails), or when
   * its stdin can no longer be written (the child closed it), once for
   * each. Either may come before the child exits: a child that closes them
   * lives on, deaf or mute. */
  readonly onPipeClosed?: (pipe: "stdin" | "stdout") => void;
  /** Called once, after the child exited and its stdout and stderr were
   * drained (so {@linkcode ChildProcess.stderrTail} is complete). */
  readonly onExit: (exit: ChildExit) => void;
}

/** A running child process whose stdin, stdout and stderr are pipes. */
export interface ChildProcess {
  /** The operating system's process id. */
  readonly pid: number;
  /** Queues bytes on stdin, in order; chunks queued together go out in one
   * write. Never throws: a dead child is reported through `onExit`. The
   * caller must not modify `bytes` afterwards. */
  write(bytes: Uint8Array): void;
  /** Closes stdin once the queued bytes are written: the worker reads EOF. */
  closeStdin(): void;
  /** Sends a signal; does nothing once the child has exited. */
  kill(signal: "SIGTERM" | "SIGKILL"): void;
  /** Lets this child (and its pipes) keep the parent's event loop alive. */
  ref(): void;
  /** Stops this child (and its pipes) from keeping the parent alive. */
  unref(): void;
  /** The last lines (at most 20, at most 8 KiB) the child wrote to stderr.
   * Everything it writes there is also forwarded to the parent's stderr. */
  stderrTail(): string;
}

/** Starts a child process; throws an `Error` when it cannot be started. */
export type Spawn = (options: SpawnOptions) => ChildProcess;

const TAIL_LINES = 20;
const TAIL_BYTES = 8 * 1024;

/** The last lines a child wrote to stderr, kept within 8 KiB. For adapters. */
export class StderrTail {
  #chunks: Uint8Array[] = [];
  #bytes = 0;

  /** Appends a chunk, forgetting whole chunks beyond the byte budget. */
  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes - this.#chunks[0].length >= TAIL_BYTES) {
      this.#bytes -= this.#chunks.shift()!.length;
    }
  }

  /** The last lines, without a trailing newline. */
  text(): string {
    const bytes = new Uint8Array(this.#bytes);
    let offset = 0;
    for (const chunk of this.#chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    const start = Math.max(0, bytes.length - TAIL_BYTES);
    const text = new TextDecoder().decode(bytes.subarray(start)).trimEnd();
    const lines = text.split("\n");
    // A line cut by the byte budget is dropped rather than shown half,
    // unless it is the only one.
    if (start > 0 && bytes[start - 1] !== 10 && lines.length > 1) {
      lines.shift();
    }
    return lines.slice(-TAIL_LINES).join("\n");
  }
}

/**
 * The error for a program that could not be started. For adapters.
 *
 * @param program The program that was run.
 * @param cause What the runtime threw.
 * @returns An `Error` naming the program, with `cause`.
 */
export function spawnError(program: string, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`cannot start ${program}: ${reason}`, { cause });
}

/**
 * Rethrows a callback's exception as an uncaught error, so that a bug in a
 * callback is loud while the adapter's read loops keep their invariants.
 * For adapters.
 *
 * @param error What the callback threw.
 */
export function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/** How long an exited child's pipes may stay open (held by a grandchild
 * that inherited them) before the adapter stops waiting for their EOF. */
export const DRAIN_GRACE_MS = 500;

/**
 * Waits for `drained`, giving up after {@linkcode DRAIN_GRACE_MS}: then
 * `abandon()` must end the reads, and `drained` settles. For adapters.
 *
 * @param drained Fulfils when stdout and stderr reached EOF; never rejects.
 * @param abandon Cancels the reads.
 */
export async function drainWithGrace(
  drained: Promise<unknown>,
  abandon: () => void,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), DRAIN_GRACE_MS);
  });
  try {
    const first = await Promise.race([drained.then(() => "drained"), late]);
    if (first === "late") abandon();
    await drained;
  } finally {
    clearTimeout(timer);
  }
}
