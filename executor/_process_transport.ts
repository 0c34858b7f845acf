/**
 * The process pool's transport: a worker subprocess spoken to in frames
 * over its stdin and stdout, the calls' arguments and answers in the value
 * codec.
 *
 * @module
 */
import process from "node:process";
import { decode, encode, sectionsOf } from "../workers/_codec.ts";
import {
  FrameReader,
  FrameWriter,
  newMark,
  type ParentMessage,
  ProtocolError,
  type Sections,
} from "../workers/_protocol.ts";
import { POOL_PID_FLAG } from "../workers/_watchdog.ts";
import {
  type ChildExit,
  type ChildProcess,
  DRAIN_GRACE_MS,
  type Spawn,
} from "./_child_process.ts";
import type {
  EngineWorker,
  WorkerExit,
  WorkerListener,
} from "./_worker_transport.ts";
import {
  type FunctionShipping,
  refFor,
  type Shipped,
} from "./_function_shipping.ts";
import {
  type BatchState,
  encodeArgs,
  type RemoteCall,
  remoteError,
  sendableBatch,
  withClosureHint,
} from "./_remote_call.ts";

type AnyFunction = (...args: never[]) => unknown;

/**
 * The wire of a batch's arguments, by column (see `ParentMessage`): those
 * of the calls that encode, and the errors of those that do not, which
 * fail their own items only.
 *
 * @param columns The calls' arguments, one array per parameter.
 * @returns The wire of the columns of the calls that encode, and the batch
 * with the failures by index.
 */
export function encodeBatch(
  columns: unknown[][],
): { args: unknown; batch: BatchState } {
  try {
    const args = encode(columns, "arguments");
    return { args, batch: { size: columns[0].length, failures: new Map() } };
  } catch {
    // Encode them one by one, to fail only the calls at fault.
    const sendable = sendableBatch(columns, encodeArgs);
    return {
      args: encode(sendable.columns, "arguments"),
      batch: sendable.batch,
    };
  }
}

/** What every worker of one pool is started with. */
export interface WorkerSetup {
  readonly spawn: Spawn;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly cwd: string | undefined;
  readonly maxFrameBytes: number;
  readonly shipping: FunctionShipping;
  /** The first message: modules, initializer (with its source) and args;
   * each worker adds its own mark. */
  readonly init: Omit<ParentMessage & { t: "init" }, "mark">;
  /** The initializer's source key, which `init` delivers. */
  readonly initKey: number | undefined;
  /** The initializer, when it goes by source (for the closure hint). */
  readonly initBySource: AnyFunction | undefined;
  /** The machine the worker runs on, for a pool across machines. */
  readonly host?: string;
  /** What the worker reads before its first frame: its modules, for a
   * worker on another machine (see `_remote_boot.ts`). */
  readonly preamble?: Uint8Array;
}

/** A worker subprocess, for the engine. */
export class ProcessWorker implements EngineWorker<RemoteCall> {
  readonly group: string | undefined;
  readonly awaitsReady: boolean;
  readonly #child: ChildProcess;
  readonly #listener: WorkerListener;
  readonly #shipping: FunctionShipping;
  readonly #writer: FrameWriter;
  readonly #reader: FrameReader;
  readonly #initBySource: AnyFunction | undefined;
  /** The source keys this worker has been sent. */
  readonly #sent = new Set<number>();
  #misbehaved = false;
  /** Ends a worker that closed its stdin or stdout but lives on. */
  #lost: ReturnType<typeof setTimeout> | undefined;
  /** Why the worker was killed, when it was for something it did. */
  #killedFor = "";
  /** Whether the pool ended it (closed its stdin, or killed it). */
  #ended = false;
  /** "worker 42" or "the worker on host h (ssh pid 42)", in messages. */
  readonly #name: string;

  /**
   * Starts a worker and queues its `init` message.
   *
   * @throws {Error} When the process cannot be started.
   */
  constructor(setup: WorkerSetup, listener: WorkerListener) {
    this.group = setup.host;
    this.awaitsReady = setup.preamble !== undefined;
    this.#listener = listener;
    this.#shipping = setup.shipping;
    this.#initBySource = setup.initBySource;
    // The worker's frames begin with this worker's own mark: whatever else
    // it writes on its stdout is its output, which goes to ours.
    const mark = newMark();
    this.#writer = new FrameWriter(setup.maxFrameBytes);
    this.#reader = new FrameReader(setup.maxFrameBytes, mark, forwardOutput);
    const init = { ...setup.init, mark: hex(mark) };
    this.#writer.add(init, sectionsOf(init.args));
    if (setup.initKey !== undefined) this.#sent.add(setup.initKey);
    this.#child = setup.spawn({
      // After a local entry: the pid its watchdog watches (see
      // workers/_watchdog.ts); a remote worker watches its stdin instead.
      command: setup.preamble === undefined
        ? [...setup.command, `${POOL_PID_FLAG}${process.pid}`]
        : setup.command,
      env: setup.env,
      cwd: setup.cwd,
      onStdout: (chunk) => this.#read(chunk),
      onPipeClosed: (pipe) => this.#pipeClosed(pipe),
      onExit: (exit) => {
        clearTimeout(this.#lost);
        listener.exited(this.#describe(exit));
      },
    });
    const pid = this.#child.pid;
    this.#name = setup.host === undefined
      ? `worker ${pid}`
      : `the worker on host ${setup.host} (ssh pid ${pid})`;
    if (setup.preamble !== undefined) this.#child.write(setup.preamble);
  }

  /** Tells a worker on another machine that the link lives. */
  ping(): void {
    this.#writer.add({ t: "ping" });
    this.flush();
  }

  send(id: number, call: RemoteCall): void {
    const shipped: Shipped = this.#shipping.ship(call.fn);
    const fn = refFor(shipped, this.#sent);
    const t = call.batch === undefined ? "call" : "batch";
    const message = { t, id, fn, args: call.args };
    this.#writer.add(message, sectionsOf(call.args), "the arguments");
    if ("k" in fn) {
      call.bySource = true;
      this.#sent.add(fn.k);
    }
  }

  flush(): void {
    while (this.#writer.size > 0) this.#child.write(this.#writer.take());
  }

  close(): void {
    this.#ended = true;
    this.#child.closeStdin();
  }

  kill(signal: "SIGTERM" | "SIGKILL"): void {
    this.#ended = true;
    this.#child.kill(signal);
  }

  hold(held: boolean): void {
    if (held) this.#child.ref();
    else this.#child.unref();
  }

  #read(chunk: Uint8Array): void {
    if (this.#misbehaved) return;
    let messages: unknown[];
    try {
      messages = this.#reader.push(chunk);
    } catch (error) {
      // The frames before the bad bytes still answer their calls.
      const valid = error instanceof ProtocolError ? error.messages : [];
      for (const message of valid) this.#dispatch(message);
      // Output between frames is passed on: only a frame that its mark
      // began and other bytes broke gets here.
      return this.#misbehave(
        "wrote a frame that cannot be read (bytes from another thread " +
          "written into it?)",
        error,
      );
    }
    for (const message of messages) this.#dispatch(message);
    this.#listener.answersRead();
  }

  #dispatch(message: unknown): void {
    if (this.#misbehaved) return;
    const m = message as Record<string, unknown> & Sections;
    const listener = this.#listener;
    switch (m.t) {
      case "ok":
      case "err": {
        if (typeof m.id !== "number") break;
        let value: unknown;
        try {
          value = decode(m.t === "ok" ? m.value : m.error, m.sections);
        } catch (error) {
          return listener.callFailed(m.id, error);
        }
        return listener.answered(m.id, m.t === "ok", value);
      }
      case "busy":
        if (typeof m.ms === "number") listener.worked(m.ms);
        return;
      case "ready":
        return listener.ready(
          typeof m.cores === "number" ? m.cores : undefined,
        );
      case "init-failed": {
        let error: unknown;
        try {
          error = remoteError(decode(m.error, m.sections));
          const init = this.#initBySource;
          if (init !== undefined) error = withClosureHint(error, init);
        } catch (failure) {
          error = failure;
        }
        return listener.initFailed(
          error,
          m.stage === "modules" ? "modules" : "initializer",
          typeof m.module === "string" ? m.module : undefined,
        );
      }
    }
    this.#misbehave(
      `sent a message the pool does not know: ${
        JSON.stringify(m).slice(0, 200)
      }`,
    );
  }

  /** A worker that can no longer hear or speak is dead: one that lives on
   * after its stdin or stdout closed is killed. */
  #pipeClosed(pipe: "stdin" | "stdout"): void {
    if (pipe === "stdout") this.#reader.end();
    if (this.#lost !== undefined) return;
    this.#lost = setTimeout(() => {
      this.#killedFor = ` after it closed its ${pipe}`;
      this.#child.kill("SIGKILL");
    }, DRAIN_GRACE_MS);
  }

  #misbehave(what: string, cause?: unknown): void {
    this.#misbehaved = true;
    const reason = cause instanceof Error ? `: ${cause.message}` : "";
    this.#listener.misbehaved(
      `${this.#name} ${what}${reason}${this.#tail()}`,
      cause,
    );
  }

  #describe(exit: ChildExit): WorkerExit {
    const how = exit.signal !== null
      ? `was killed by ${exit.signal}${this.#killedFor}`
      : `exited with code ${exit.code}${EXIT_CODES[exit.code!] ?? ""}`;
    return {
      how: `${this.#name} ${how}${this.#tail()}`,
      exitCode: exit.code,
      signal: exit.signal,
      stderr: this.#child.stderrTail(),
      host: this.group,
      expected: this.#ended,
    };
  }

  #tail(): string {
    const tail = this.#child.stderrTail();
    if (tail === "") return "; it wrote nothing on stderr";
    return `; its last lines on stderr:\n${tail.replace(/^/gm, "  ")}`;
  }
}

/** What the exit codes of `workers/process_worker.ts` mean. */
const EXIT_CODES: Readonly<Record<number, string>> = {
  65: " (it read bytes on stdin that are not the pool's frames)",
  66: " (its stdin failed: a task closed it?)",
  74: " (it could not write to its stdout: a task closed it?)",
};

/** Writes a worker's own output (what it wrote on stdout besides its
 * frames) to this process's stdout, as a Python worker's `print()` does. */
function forwardOutput(bytes: Uint8Array): void {
  process.stdout.write(bytes);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0"))
    .join("");
}
