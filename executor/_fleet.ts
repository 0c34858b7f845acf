/**
 * A process pool's workers spread over machines (`hosts`): which machine the
 * next worker starts on, the command that starts it there (`ssh` for a
 * remote one, with keepalive on, and the bootstrap of `_remote_boot.ts`),
 * the modules a remote worker is sent first, the pings that tell remote
 * workers the link lives, and each machine's health, which the workers'
 * ends tell.
 *
 * @module
 */
import { clearInterval, setInterval } from "node:timers";
import type { RuntimeName } from "../workers/_runtime.ts";
import type { GroupStats } from "./_engine.ts";
import { type HostStats, type Machine, Machines } from "./_hosts.ts";
import { ProcessWorker, type WorkerSetup } from "./_process_transport.ts";
import { remoteCommand, workerBundle } from "./_remote_boot.ts";
import type { WorkerExit, WorkerListener } from "./_worker_transport.ts";

/**
 * The options the pool gives `ssh`, after the host's own (the first of an
 * option wins): no terminal (the pipes carry bytes), no prompt (a worker
 * cannot answer one), and keepalive, so that a dead link ends `ssh` within
 * about 15 s: a probe every 5 s, given up after 2 unanswered.
 */
export const SSH_OPTIONS: readonly string[] = [
  "-T",
  "-o",
  "BatchMode=yes",
  "-o",
  "ConnectTimeout=10",
  "-o",
  "ServerAliveInterval=5",
  "-o",
  "ServerAliveCountMax=2",
];

/** How often remote workers are pinged; they end themselves after
 * `SILENCE_LIMIT_MS` of silence (`workers/_watchdog.ts`). */
const PING_MS = 5000;

/** ssh's exit code for its own failures, and for a remote command killed
 * by a signal. */
const SSH_FAILED = 255;

/** The workers of a pool across machines; see the module documentation. */
export class Fleet {
  readonly #machines: Machines;
  readonly #localCommand: (runtime: RuntimeName) => string[];
  readonly #entry: URL;
  #bundle: Uint8Array | undefined;
  readonly #remote = new Set<ProcessWorker>();
  #pings: ReturnType<typeof setInterval> | undefined;

  /**
   * @param machines The machines, from `checkHosts()`.
   * @param localCommand The command line of a worker on this machine.
   * @param entry The worker entry, whose modules remote workers are sent.
   */
  constructor(
    machines: readonly Machine[],
    localCommand: (runtime: RuntimeName) => string[],
    entry: URL,
  ) {
    this.#machines = new Machines(machines);
    this.#localCommand = localCommand;
    this.#entry = entry;
  }

  /** Reads the modules remote workers are sent. */
  async prepare(): Promise<void> {
    if (this.#machines.list.every((machine) => machine.local)) return;
    this.#bundle = await workerBundle(this.#entry);
  }

  /** How many workers the machines may run, as far as known. */
  get capacity(): number {
    return this.#machines.capacity;
  }

  /** Whether a machine takes a worker at `now` (`performance.now()`). */
  mayStart(now: number): boolean {
    return this.#machines.pick(now) !== undefined;
  }

  /** See `Machines.unservable()`. */
  unservable(): string | undefined {
    return this.#machines.unservable();
  }

  /** When a resting machine may be tried again, after `now`. */
  nextStart(now: number): number | undefined {
    return this.#machines.nextTry(now);
  }

  /**
   * Starts a worker on the machine that takes one now (`mayStart()`).
   *
   * @param setup What every worker of the pool starts with.
   * @param listener The engine's listener for it.
   * @returns The worker.
   */
  start(setup: WorkerSetup, listener: WorkerListener): ProcessWorker {
    const machine = this.#machines.pick(performance.now())!;
    const command = machine.local ? this.#localCommand(machine.runtime) : [
      "ssh",
      ...machine.ssh,
      ...SSH_OPTIONS,
      machine.name,
      remoteCommand(machine.runtime, setup.env),
    ];
    let ready = false;
    let worker: ProcessWorker | undefined = undefined;
    const watched: WorkerListener = {
      ...listener,
      ready: (cores) => {
        ready = true;
        machine.ready(cores);
        listener.ready(cores);
      },
      exited: (exit) => {
        machine.live--;
        if (worker !== undefined) this.#forget(worker);
        if (this.#failed(machine, exit, ready)) {
          machine.failed(lastLine(exit), performance.now());
        }
        listener.exited(exit);
      },
    };
    machine.live++;
    try {
      worker = new ProcessWorker({
        ...setup,
        command,
        host: machine.name,
        preamble: machine.local ? undefined : this.#bundle,
      }, watched);
    } catch (error) {
      machine.live--;
      throw error;
    }
    if (!machine.local) this.#ping(worker);
    return worker;
  }

  /** Whether a worker's end counts against its machine: it could not start,
   * or its link or its process was lost, rather than the pool ended it or
   * its task made it exit. */
  #failed(machine: Machine, exit: WorkerExit, ready: boolean): boolean {
    if (exit.expected) return false;
    if (!ready) return true;
    if (machine.local) return false;
    return exit.exitCode === SSH_FAILED || exit.signal !== null;
  }

  /** Pings `worker` with the others, every `PING_MS`, without holding the
   * event loop. */
  #ping(worker: ProcessWorker): void {
    this.#remote.add(worker);
    if (this.#pings !== undefined) return;
    this.#pings = setInterval(() => {
      for (const remote of this.#remote) remote.ping();
    }, PING_MS);
    this.#pings.unref();
  }

  #forget(worker: ProcessWorker): void {
    this.#remote.delete(worker);
    if (this.#remote.size > 0 || this.#pings === undefined) return;
    clearInterval(this.#pings);
    this.#pings = undefined;
  }

  /**
   * Each machine's part of `stats()`.
   *
   * @param groups The engine's counts by machine.
   * @returns One entry per machine, in the order of `hosts`.
   */
  stats(groups: ReadonlyMap<string, GroupStats>): HostStats[] {
    const now = performance.now();
    return this.#machines.list.map((machine) => {
      const counts = groups.get(machine.name);
      return {
        host: machine.name,
        workers: counts?.workers ?? 0,
        idle: counts?.idle ?? 0,
        running: counts?.running ?? 0,
        failed: counts?.failed ?? 0,
        state: machine.state(now),
      };
    });
  }
}

/** The line that says most of why a worker ended: ssh's last on stderr,
 * else how it ended. */
function lastLine(exit: WorkerExit): string {
  const lines = exit.stderr.trim().split("\n");
  const last = lines[lines.length - 1];
  return last === "" ? exit.how.split(";")[0] : last;
}
