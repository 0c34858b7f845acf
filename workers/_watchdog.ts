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
  const source = `const pool = ${pool};
setInterval(() => {
  if (${api}.ppid !== pool) ${api}.kill(${api}.pid, "SIGKILL");
}, ${POLL_MS});`;
  if (currentRuntime === "node") {
    const { Worker } = await import("node:worker_threads");
    new Worker(source, { eval: true });
    return;
  }
  const blob = new Blob([source], { type: "text/javascript" });
  new Worker(URL.createObjectURL(blob), { type: "module" });
}
