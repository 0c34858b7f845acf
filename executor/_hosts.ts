/**
 * The machines of a process pool that spans several (`hosts`): the option,
 * checked; where the next worker starts; and each machine's health. A
 * machine that fails (its worker could not start, or died of something else
 * than the pool's own closing) rests, with back-off, before it is tried
 * again; one that failed `DOWN_AFTER` times in a row is down, and the pool
 * breaks only once every machine is down and no worker is left.
 *
 * @module
 */
import type { RuntimeName } from "../workers/_runtime.ts";
import { checkRuntime, describe } from "./_options.ts";

/**
 * One machine of `hosts`: an ssh destination (`"user@host"`, a name from
 * `~/.ssh/config`), an object that says more about it, or this machine.
 *
 * @example Two machines over ssh and this one
 * ```ts
 * import type { HostSpec } from "@concurrent/futures";
 *
 * const hosts: HostSpec[] = [
 *   "alice@10.0.0.2",
 *   { host: "build-2", workers: 4, runtime: "bun", ssh: ["-p", "2222"] },
 *   { local: true, workers: 2 },
 * ];
 * ```
 */
export type HostSpec =
  | string
  | {
    /** The ssh destination. */
    readonly host: string;
    /** How many workers it runs at most.
     * @default {its core count, as its first worker reports it} */
    readonly workers?: number;
    /** The runtime its workers run on, found on its PATH.
     * @default {the current runtime} */
    readonly runtime?: RuntimeName;
    /** Options for `ssh`, before the pool's own (so they win). */
    readonly ssh?: readonly string[];
  }
  | {
    /** This machine, without ssh. */
    readonly local: true;
    /** How many workers it runs at most.
     * @default {navigator.hardwareConcurrency} */
    readonly workers?: number;
    /** The runtime its workers run on.
     * @default {the current runtime} */
    readonly runtime?: RuntimeName;
  };

/**
 * How a machine of a pool is doing: serving or ready to (`up`), resting
 * after a failure before it is tried again (`resting`), or failed too often
 * in a row (`down`: it is still tried, after the longest rest).
 *
 * @example
 * ```ts
 * import type { HostState } from "@concurrent/futures";
 *
 * const serving = (state: HostState): boolean => state === "up";
 * ```
 */
export type HostState = "up" | "resting" | "down";

/**
 * One machine's part of `stats()`, for a pool with `hosts`.
 *
 * @example The machines that do not serve now
 * ```ts
 * import type { HostStats } from "@concurrent/futures";
 *
 * function notServing(hosts: readonly HostStats[]): string[] {
 *   return hosts.filter((host) => host.state !== "up").map((host) => host.host);
 * }
 * ```
 */
export interface HostStats {
  /** The ssh destination, or `"local"`. */
  readonly host: string;
  /** Its workers alive, starting ones included. */
  readonly workers: number;
  /** Its workers with nothing to do. */
  readonly idle: number;
  /** The calls running on its workers. */
  readonly running: number;
  /** The calls that failed on its workers, since the pool was made. */
  readonly failed: number;
  /** How it is doing. */
  readonly state: HostState;
}

/** Failures in a row after which a machine is down. */
const DOWN_AFTER = 3;
/** The first rest after a failure, doubled after each further one. */
const REST_MS = 1000;
/** The longest rest. */
const MAX_REST_MS = 30_000;

/** One machine, as the pool keeps it. */
export class Machine {
  /** `"local"`, or the ssh destination. */
  readonly name: string;
  /** Whether it is this machine. */
  readonly local: boolean;
  readonly runtime: RuntimeName;
  readonly ssh: readonly string[];
  /** How many workers it may run: as given, else its core count once
   * known (1 until then). */
  capacity: number;
  #sized: boolean;
  live = 0;
  #failures = 0;
  #restUntil = 0;
  /** What went wrong last, for the pool's error when no machine can serve. */
  lastFailure = "";

  constructor(spec: HostSpec, runtime: RuntimeName, cores: number) {
    if (typeof spec === "string") spec = { host: spec };
    this.local = "local" in spec;
    this.name = "local" in spec ? "local" : spec.host;
    this.runtime = spec.runtime ?? runtime;
    this.ssh = "ssh" in spec ? spec.ssh ?? [] : [];
    this.#sized = spec.workers !== undefined || this.local;
    this.capacity = spec.workers ?? (this.local ? cores : 1);
  }

  /** Its state at `now`. */
  state(now: number): HostState {
    if (this.down) return "down";
    return this.#restUntil > now ? "resting" : "up";
  }

  /** Whether a worker may start there at `now`. */
  takes(now: number): boolean {
    return this.live < this.capacity && this.#restUntil <= now;
  }

  /** When it may be tried again, if it rests. */
  get restUntil(): number {
    return this.#restUntil;
  }

  /** Whether it failed too often in a row. */
  get down(): boolean {
    return this.#failures >= DOWN_AFTER;
  }

  /** Its first worker reports its core count. */
  ready(cores: number | undefined): void {
    this.#failures = 0;
    this.#restUntil = 0;
    if (!this.#sized && cores !== undefined && cores > 0) {
      this.capacity = cores;
      this.#sized = true;
    }
  }

  /** A worker of it failed, as `how` says: it rests. */
  failed(how: string, now: number): void {
    this.lastFailure = how;
    this.#failures++;
    const rest = REST_MS * 2 ** (this.#failures - 1);
    this.#restUntil = now + Math.min(rest, MAX_REST_MS);
  }
}

/**
 * Checks the `hosts` option.
 *
 * @param hosts The option.
 * @param runtime The runtime of machines that name none.
 * @param cores This machine's core count.
 * @returns The machines, or `undefined` when the option is not given.
 * @throws {TypeError} For anything but a non-empty list of destinations or
 * host objects, a duplicate, or a bad field.
 */
export function checkHosts(
  hosts: unknown,
  runtime: RuntimeName,
  cores: number,
): Machine[] | undefined {
  if (hosts === undefined) return undefined;
  if (!Array.isArray(hosts) || hosts.length === 0) {
    throw new TypeError(
      `hosts must be a non-empty list of ssh destinations or host objects, got ${
        Array.isArray(hosts) ? "[]" : describe(hosts)
      }: hosts: ["alice@10.0.0.2", { host: "build-2", workers: 4 }]`,
    );
  }
  const machines = hosts.map((spec: unknown, i) => {
    checkHost(spec, i);
    return new Machine(spec as HostSpec, runtime, cores);
  });
  const names = machines.map((machine) => machine.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) {
    throw new TypeError(`hosts lists ${twice} twice: give it \`workers\``);
  }
  return machines;
}

function checkHost(spec: unknown, i: number): void {
  const where = `hosts[${i}]`;
  if (typeof spec === "string") {
    if (spec === "" || spec.startsWith("-")) {
      throw new TypeError(`${where} is not an ssh destination: "${spec}"`);
    }
    return;
  }
  if (typeof spec !== "object" || spec === null) {
    throw new TypeError(
      `${where} must be an ssh destination or a host object, got ${
        describe(spec)
      }`,
    );
  }
  const entry = spec as Record<string, unknown>;
  const local = entry.local === true;
  if (!local && (typeof entry.host !== "string" || entry.host === "")) {
    throw new TypeError(
      `${where}.host must be an ssh destination, got ${describe(entry.host)}`,
    );
  }
  const known = local ? ["local", "workers", "runtime"] : [
    "host",
    "workers",
    "runtime",
    "ssh",
  ];
  for (const key of Object.keys(entry)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${where} has no field "${key}": its fields are ${known.join(", ")}`,
      );
    }
  }
  const { workers, runtime, ssh } = entry;
  if (
    workers !== undefined &&
    (!Number.isSafeInteger(workers) || (workers as number) < 1)
  ) {
    throw new TypeError(
      `${where}.workers must be an integer >= 1, got ${describe(workers)}`,
    );
  }
  checkRuntime(runtime, `${where}.runtime`);
  if (
    ssh !== undefined &&
    (!Array.isArray(ssh) || !ssh.every((word) => typeof word === "string"))
  ) {
    throw new TypeError(
      `${where}.ssh must be a list of ssh options, got ${describe(ssh)}`,
    );
  }
}

/** The machines of one pool: where the next worker goes, and whether any
 * can serve. */
export class Machines {
  readonly list: readonly Machine[];

  constructor(list: readonly Machine[]) {
    this.list = list;
  }

  /** How many workers the machines may run at once, as far as known. */
  get capacity(): number {
    return this.list.reduce((sum, machine) => sum + machine.capacity, 0);
  }

  /** The machine the next worker starts on: the least loaded of those that
   * take one now. */
  pick(now: number): Machine | undefined {
    let best: Machine | undefined;
    for (const machine of this.list) {
      if (!machine.takes(now)) continue;
      if (
        best === undefined ||
        machine.live / machine.capacity < best.live / best.capacity
      ) {
        best = machine;
      }
    }
    return best;
  }

  /** When a resting machine may be tried again, if none takes a worker
   * now. */
  nextTry(now: number): number | undefined {
    const times = this.list.filter((machine) =>
      machine.live < machine.capacity && machine.restUntil > now
    ).map((machine) => machine.restUntil);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** Why no machine can serve, once every one is down and has no worker;
   * else `undefined`. */
  unservable(): string | undefined {
    if (!this.list.every((machine) => machine.down && machine.live === 0)) {
      return undefined;
    }
    return "no host can serve: " +
      this.list.map((machine) => `${machine.name}: ${machine.lastFailure}`)
        .join("; ");
  }
}
