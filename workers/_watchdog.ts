/**
 * A process worker's watchdog: a thread of its own that ends the whole
 * process, by SIGKILL, once the pool that started it is gone. A worker
 * notices on its own when its stdin ends, but only when it next reads it:
 * not while a task keeps its main thread busy, maybe for ever. The thread
 * looks at the worker's parent every 200 ms: when the parent dies, the
 * system hands the worker to another (init, or a subreaper), and its
 * parent's pid changes.
 *
 * The thread is made from source (a blob URL, or Node's `eval`), so that it
 * needs no permission to read a module; what it calls needs none either:
 * Deno lets any process read its parent's pid and, from Deno 2.9, signal
 * itself.
 *
 * @module
 */
import { currentRuntime } from "./_runtime.ts";

/** How often the thread looks at the parent, in ms. */
const POLL_MS = 200;

/** The argument that passes the pool's pid to its workers. */
export const POOL_PID_FLAG = "--pool-pid=";

/** The part of `process` read here. */
interface MaybeProcess {
  readonly ppid: number;
  readonly argv: readonly string[];
}

/**
 * Starts the watchdog, unless this process is not the pool's own child: a
 * wrapper stands between them (`sh -c`, a container), or the pool is on
 * another machine (over `ssh`, where the worker's parent is sshd and the
 * end of stdin is the only sign). The pool passes its pid on the command
 * line (`--pool-pid=<pid>`), since by the time the worker reads its
 * parent's pid, the pool may be gone already.
 */
export async function watchParent(): Promise<void> {
  const deno = currentRuntime === "deno";
  const process = deno
    ? undefined
    : (globalThis as unknown as { process: MaybeProcess }).process;
  const args = deno ? Deno.args : process!.argv.slice(2);
  const flag = args.find((arg) => arg.startsWith(POOL_PID_FLAG));
  const pool = Number(flag?.slice(POOL_PID_FLAG.length));
  const ppid = deno ? Deno.ppid : process!.ppid;
  if (!(pool > 1) || ppid !== pool) return;
  const api = deno ? "Deno" : "process";
  await startThread(`const pool = ${pool};
setInterval(() => {
  if (${api}.ppid !== pool) ${api}.kill(${api}.pid, "SIGKILL");
}, ${POLL_MS});`);
}

/** How long a worker on another machine may hear nothing from its pool
 * (which pings it every few seconds) before it takes the link for dead. */
export const SILENCE_LIMIT_MS = 20_000;
/** How long a worker whose stdin ended may take to exit by itself. */
const EXIT_GRACE_MS = 500;

/**
 * For a worker on another machine (behind `ssh`), whose parent, sshd, lives
 * on when the pool dies or the link drops: a thread of its own reads stdin
 * and hands its chunks to the worker; when stdin ends, the worker has
 * `EXIT_GRACE_MS` to exit by itself before the thread ends it, and when nothing
 * comes for `SILENCE_LIMIT_MS` (the pool pings its remote workers), the
 * thread ends it at once.
 *
 * @returns stdin's chunks, as the thread reads them, until it ends.
 */
export async function readStdinOnThread(): Promise<AsyncIterable<Uint8Array>> {
  const kill = currentRuntime === "deno"
    ? "Deno.kill(Deno.pid, 'SIGKILL')"
    : "process.kill(process.pid, 'SIGKILL')";
  const watch = `let heard = Date.now();
const kill = () => ${kill};
setInterval(() => {
  if (Date.now() - heard > ${SILENCE_LIMIT_MS}) kill();
}, 1000);
const ended = () => {
  send(null);
  setTimeout(kill, ${EXIT_GRACE_MS});
};
const got = (chunk) => {
  heard = Date.now();
  send(chunk);
};`;
  const read = currentRuntime === "deno"
    ? `const send = (chunk) => postMessage(chunk);
const buffer = new Uint8Array(65536);
for (;;) {
  const count = await Deno.stdin.read(buffer).catch(() => null);
  if (count === null) break;
  got(buffer.slice(0, count));
}
ended();`
    : currentRuntime === "bun"
    ? `const send = (chunk) => postMessage(chunk);
const reader = Bun.stdin.stream().getReader();
for (;;) {
  const { value, done } = await reader.read().catch(() => ({ done: true }));
  if (done) break;
  got(value.slice());
}
ended();`
    : `const load = (name) => process.getBuiltinModule(name);
const { parentPort } = load("node:worker_threads");
const send = (chunk) => parentPort.postMessage(chunk);
const stdin = new (load("node:net").Socket)({ fd: 0, writable: false });
stdin.on("data", got);
stdin.once("end", ended);
stdin.once("error", ended);`;
  const chunks = new ChunkQueue();
  await startThread(`${watch}\n${read}`, (chunk) => chunks.push(chunk));
  return chunks;
}

/** Starts a thread that runs `source`, in this runtime's way, and passes
 * what it posts to `onMessage`. */
async function startThread(
  source: string,
  onMessage?: (data: Uint8Array | null) => void,
): Promise<void> {
  if (currentRuntime === "node") {
    const { Worker } = await import("node:worker_threads");
    const thread = new Worker(source, { eval: true });
    if (onMessage !== undefined) thread.on("message", onMessage);
    return;
  }
  const blob = new Blob([source], { type: "text/javascript" });
  const thread = new Worker(URL.createObjectURL(blob), { type: "module" });
  if (onMessage !== undefined) {
    thread.onmessage = (event: MessageEvent) => onMessage(event.data);
  }
}

/** Chunks a thread hands over, as an async iterable that ends at `null`. */
class ChunkQueue implements AsyncIterable<Uint8Array> {
  readonly #chunks: (Uint8Array | null)[] = [];
  #wake: (() => void) | undefined;

  push(chunk: Uint8Array | null): void {
    this.#chunks.push(chunk);
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      while (this.#chunks.length === 0) {
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = undefined;
      }
      const chunk = this.#chunks.shift()!;
      if (chunk === null) return;
      yield chunk;
    }
  }
}
