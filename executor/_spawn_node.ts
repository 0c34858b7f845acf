/**
 * The Node adapter of `_child_process.ts`: children started with `node:child_process`.
 *
 * A child's pipes are sockets of their own: `unref()` must let go of them
 * as well as of the child, or an idle worker's open stdout keeps the parent
 * alive. Node queues what `stdin.write()` cannot write at once, in order,
 * so the adapter only joins the chunks of one turn into one write (`cork`)
 * and never waits for `drain`: the engine never sends more than a worker's
 * window of calls ahead.
 *
 * @module
 */
import {
  type ChildProcessWithoutNullStreams,
  spawn as nodeSpawn,
} from "node:child_process";
import process from "node:process";
import {
  type ChildExit,
  type ChildProcess,
  drainWithGrace,
  rethrowLater,
  spawnError,
  type SpawnOptions,
  StderrTail,
} from "./_child_process.ts";

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
  let child: ChildProcessWithoutNullStreams;
  try {
    child = nodeSpawn(program, args, {
      cwd: options.cwd,
      env: options.env === undefined
        ? undefined
        : { ...process.env, ...options.env },
      stdio: "pipe",
    });
  } catch (error) {
    throw spawnError(program, error);
  }
  // Node reports a program it cannot start (ENOENT, EACCES) by an `error`
  // event later, and leaves `pid` unset now.
  if (child.pid === undefined) {
    child.on("error", () => {});
    throw spawnError(program, new Error("not found, or not executable"));
  }
  return new NodeChild(child, child.pid, options);
}

class NodeChild implements ChildProcess {
  readonly pid: number;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #tail = new StderrTail();
  #stdinOpen = true;
  #corked = false;

  constructor(
    child: ChildProcessWithoutNullStreams,
    pid: number,
    options: SpawnOptions,
  ) {
    this.pid = pid;
    this.#child = child;
    // EPIPE and the like: the child closed its stdin, or is gone or going.
    child.stdin.on("error", () => options.onPipeClosed?.("stdin"));
    child.on("error", () => {});
    child.stdout.on("data", (chunk: Uint8Array) => {
      try {
        options.onStdout(chunk);
      } catch (error) {
        rethrowLater(error);
      }
    });
    child.stdout.once("close", () => options.onPipeClosed?.("stdout"));
    child.stderr.on("data", (chunk: Uint8Array) => {
      this.#tail.push(chunk);
      // A failure means the parent's stderr is closed: the tail has it.
      process.stderr.write(chunk);
    });
    this.#finish().then(options.onExit).catch(rethrowLater);
  }

  write(bytes: Uint8Array): void {
    if (!this.#stdinOpen) return;
    const stdin = this.#child.stdin;
    if (!this.#corked) {
      this.#corked = true;
      stdin.cork();
      queueMicrotask(() => {
        this.#corked = false;
        stdin.uncork();
      });
    }
    stdin.write(bytes);
  }

  closeStdin(): void {
    if (!this.#stdinOpen) return;
    this.#stdinOpen = false;
    this.#child.stdin.end();
  }

  kill(signal: "SIGTERM" | "SIGKILL"): void {
    // Does nothing (returns false) once the child has exited.
    this.#child.kill(signal);
  }

  ref(): void {
    this.#child.ref();
    for (const pipe of this.#pipes()) pipe.ref();
  }

  unref(): void {
    this.#child.unref();
    for (const pipe of this.#pipes()) pipe.unref();
  }

  stderrTail(): string {
    return this.#tail.text();
  }

  /** The child's three pipes, as the sockets Node makes them. */
  #pipes(): { ref(): void; unref(): void }[] {
    const { stdin, stdout, stderr } = this.#child;
    return [stdin, stdout, stderr] as unknown as {
      ref(): void;
      unref(): void;
    }[];
  }

  async #finish(): Promise<ChildExit> {
    const child = this.#child;
    const exited = new Promise<ChildExit>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
    // `close` comes once stdout and stderr reached EOF.
    const drained = new Promise<void>((resolve) =>
      child.once("close", resolve)
    );
    const exit = await exited;
    // An exited child keeps nothing alive: let its last output drain.
    this.ref();
    await drainWithGrace(drained, () => {
      child.stdout.destroy();
      child.stderr.destroy();
    });
    this.closeStdin();
    return exit;
  }
}
