/**
 * Test machines for pools across machines: network namespaces on this
 * machine, each with an sshd that cannot see this checkout, made and removed
 * by `fixtures/ssh_hosts.sh` (its header says how). For the tests of
 * `hosts_test.ts` and the across-machines figures of `deno task bench`.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { HostSpec } from "../executor/process_pool_executor.ts";

const SCRIPT = fileURLToPath(
  new URL("./fixtures/ssh_hosts.sh", import.meta.url),
);
/** Names and addresses of their own, apart from any set up by hand. */
const PREFIX = "cft";
const NET = "10.234";
const STATE = `/tmp/${PREFIX}.state`;
const ENV = {
  ...process.env,
  CFSSH_PREFIX: PREFIX,
  CFSSH_NET: NET,
  CFSSH_STATE: STATE,
};

/** Where a tool of root's is (`ip`, `nft`): in sbin, which a user's PATH
 * may lack, else wherever PATH finds it. */
function rootTool(name: string): string {
  for (const folder of ["/usr/sbin", "/sbin"]) {
    if (existsSync(`${folder}/${name}`)) return `${folder}/${name}`;
  }
  return name;
}

function script(...args: string[]): string {
  return execFileSync("bash", [SCRIPT, ...args], {
    env: ENV,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/**
 * Why test machines cannot be made here (not root, no sshd, ...), or
 * `undefined` when they can. Under CI, whose `.ci/run` installs what they
 * need, that they cannot throws instead.
 */
export function sshHostsMissing(): string | undefined {
  try {
    script("check");
    return undefined;
  } catch (error) {
    const output = String((error as { stdout?: string }).stdout ?? error);
    const reason = /SKIP: (.*)/.exec(output)?.[1] ?? output.trim();
    if (process.env.CI) throw new Error(`under CI, ${reason}`);
    return reason;
  }
}

/** A fault `fixtures/ssh_hosts.sh` makes on one machine, or undoes. */
export type Fault =
  | "sshd-stop"
  | "sshd-start"
  | "cut"
  | "heal";

/** Test machines, up; `down()` removes them and all that runs on them. */
export class SshHosts {
  /** Their ssh destinations, `root@` their addresses. */
  readonly hosts: readonly string[];
  /** The ssh options that reach them: the client config with the key. */
  readonly ssh: readonly string[] = ["-F", `${STATE}/ssh_config`];

  private constructor(count: number) {
    script("up", String(count));
    this.hosts = Array.from(
      { length: count },
      (_, i) => `root@${this.address(i)}`,
    );
  }

  /** Makes `count` machines, after removing any left by an earlier run. */
  static up(count: number): SshHosts {
    return new SshHosts(count);
  }

  /**
   * The `hosts` of a pool across these machines.
   *
   * @param fields Added to each, after its `host` and `ssh`.
   */
  specs(fields: { workers?: number; ssh?: string[] } = {}): HostSpec[] {
    return this.hosts.map((host) => ({ host, ssh: this.ssh, ...fields }));
  }

  /** The address of machine `i` (from 0). */
  address(i: number): string {
    return `${NET}.${i + 1}.2`;
  }

  /** Makes or undoes `fault` on machine `i`. */
  fault(fault: Fault, i: number): void {
    script(fault, String(i + 1));
  }

  /** The processes running on machine `i` besides its listening sshd:
   * sessions and what they run. */
  processes(i: number): { pid: number; command: string }[] {
    return execFileSync(
      rootTool("ip"),
      ["netns", "pids", `${PREFIX}${i + 1}`],
      {
        encoding: "utf8",
      },
    ).split("\n").filter((pid) => pid !== "" && isSession(pid))
      .map((pid) => ({ pid: Number(pid), command: commandLine(pid) }))
      .filter(({ command }) => command !== "");
  }

  /** The `ssh` processes on this machine that reach these machines. */
  clients(): { pid: number; command: string }[] {
    return readdirSync("/proc").filter((name) => /^\d+$/.test(name))
      .map((pid) => ({ pid: Number(pid), command: commandLine(pid) }))
      .filter(({ command }) =>
        /^(\S*\/)?ssh /.test(command) &&
        command.includes(`${STATE}/ssh_config`)
      );
  }

  /** The packets for their addresses that would have left this machine
   * (by another way than their links), which the firewall rejected. */
  strays(): number {
    const chain = execFileSync(
      rootTool("nft"),
      ["list", "chain", "inet", `${PREFIX}_guard`, "out"],
      { encoding: "utf8" },
    );
    return Number(/counter packets (\d+)/.exec(chain)?.[1] ?? NaN);
  }

  /** Removes them, and every process on them. */
  down(): void {
    script("down");
  }
}

/** Whether it runs inside a machine's own process namespace, but is not
 * the sshd that listens there (its first process). */
function isSession(pid: string): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const ids = /^NSpid:\s+(.*)$/m.exec(status)?.[1].split(/\s+/) ?? [];
    return ids.length > 1 && ids[ids.length - 1] !== "1";
  } catch {
    return false;
  }
}

/** Its command line, words joined by spaces; "" once it is gone. */
function commandLine(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
      .join(" ").trim();
  } catch {
    return "";
  }
}
