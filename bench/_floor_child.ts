/**
 * A bare child process of the floors (`floor_process.ts`, the floor rows of
 * `w3_scaling.ts`): `_floor_worker.ts` spoken to in length-prefixed JSON
 * over stdio through the spawn adapters, with no futures, no codec and no
 * error handling.
 *
 * @module
 */
import { requireRuntime } from "../executor/_runtime.ts";
import type { ChildProcess } from "../executor/_child_process.ts";
import { spawnFor } from "../executor/_spawn.ts";
import { workerCommand } from "../executor/_worker_command.ts";
import { FrameReader, FrameWriter } from "../workers/_protocol.ts";

/** What the floor worker answers: `x + 2`, or `fib(n)`. */
export interface Reply {
  id: number;
  v: number;
}

const runtime = requireRuntime("the bench floors");
const spawn = await spawnFor(runtime);

/**
 * Starts a bare child running `entry`.
 *
 * @param entry The child's module.
 * @param onStdout Gets each chunk it writes.
 * @param onExit Gets how it exited.
 * @returns The child.
 */
export function spawnChild(
  entry: URL,
  onStdout: (chunk: Uint8Array) => void,
  onExit: (exit: unknown) => void,
): ChildProcess {
  return spawn({
    command: workerCommand(runtime, entry),
    onStdout,
    onExit,
  });
}

/** A child and the frames it answers; `onReply` is set per workload. */
export class Child {
  readonly process: ChildProcess;
  readonly exited: Promise<unknown>;
  readonly writer = new FrameWriter();
  onReply: (reply: Reply) => void = () => {};
  readonly #reader = new FrameReader();

  constructor() {
    const { promise, resolve } = Promise.withResolvers<unknown>();
    this.exited = promise;
    const entry = new URL("_floor_worker.ts", import.meta.url);
    this.process = spawnChild(entry, (chunk) => {
      for (const reply of this.#reader.push(chunk)) {
        this.onReply(reply as Reply);
      }
      this.flush();
    }, resolve);
  }

  /** Queues `x + 2` for the next flush. */
  send(id: number, x: number): void {
    this.writer.add({ id, x });
  }

  /** Queues `fib(n)` for the next flush. */
  sendFib(id: number, n: number): void {
    this.writer.add({ id, fib: n });
  }

  flush(): void {
    if (this.writer.size > 0) this.process.write(this.writer.take());
  }

  /** One round trip. */
  ping(): Promise<void> {
    return new Promise((resolve) => {
      this.onReply = () => resolve();
      this.send(0, 0);
      this.flush();
    });
  }

  async close(): Promise<void> {
    this.process.closeStdin();
    await this.exited;
  }
}
