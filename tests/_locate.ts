/**
 * Finds the programs that `deno task test` and `deno task bench` start
 * besides Deno (Bun, Node 22 or later, esbuild): on `PATH`, else fetched
 * from npm through `npx`, so that a machine with only Node and npm runs
 * both. Runs under Deno only, as both runners do.
 *
 * @module
 */
import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

/** A program that {@linkcode locate} found. */
export interface Located {
  /** The path of its executable. */
  command: string;
  /**
   * The folder npm fetched it into, to put before `PATH` for the programs
   * started with it, so that they find it by name too; `undefined` when it
   * came from `PATH`.
   */
  folder?: string;
}

/**
 * The path of `program` in the first folder of `PATH` that has it as an
 * executable file other than Deno itself: where `PATH` has no `node`, Deno
 * adds a folder whose `node` is Deno.
 */
function onPath(program: string): string | undefined {
  const deno = realpathSync(Deno.execPath());
  for (const folder of (Deno.env.get("PATH") ?? "").split(delimiter)) {
    const file = join(folder || ".", program);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile() && realpathSync(file) !== deno) return file;
    } catch {
      // Not in this folder.
    }
  }
  return undefined;
}

/** The major version that `command --version` prints, or `undefined` when
 * it does not run. */
async function majorVersion(command: string): Promise<number | undefined> {
  try {
    const { success, stdout } = await new Deno.Command(command, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    const version = /(\d+)\.\d+\.\d+/.exec(new TextDecoder().decode(stdout));
    return success && version ? Number(version[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `program` at version `major` or later: the one on `PATH`, else the one
 * that `npx -y -p <npm>` fetches. Says on stderr when it fetches, and why
 * it has nothing.
 *
 * @param program The name of its executable.
 * @param major The oldest major version that will do; 0 for any.
 * @param npm The npm package that has it, with a version range
 * (`node@24`).
 * @returns Where it is, or `undefined` when neither `PATH` nor npm has it.
 */
export async function locate(
  program: string,
  major: number,
  npm: string,
): Promise<Located | undefined> {
  const found = onPath(program);
  const version = found === undefined ? undefined : await majorVersion(found);
  if (found !== undefined && version !== undefined && version >= major) {
    return { command: found };
  }
  // npx puts the package's `.bin` folder first on the shell's PATH.
  const args = ["-y", "-p", npm, "-c", `command -v ${program}`];
  console.error(`$ npx ${args.slice(0, -1).join(" ")} '${args.at(-1)}'`);
  let command = "";
  try {
    const { stdout } = await new Deno.Command("npx", {
      args,
      stdin: "null",
      stdout: "piped",
    }).output();
    command = new TextDecoder().decode(stdout).trim();
  } catch {
    // No npx: told below.
  }
  const fetched = command === "" ? undefined : await majorVersion(command);
  if (fetched === undefined || fetched < major) {
    const there = found === undefined
      ? "not on PATH"
      : version === undefined
      ? `${found} does not run`
      : `${found} is version ${version} (${major} or later needed)`;
    console.error(`${program}: ${there}, and npx -y -p ${npm} failed`);
    return undefined;
  }
  return { command, folder: dirname(command) };
}
