/**
 * `deno task example`: runs every example and, where `python3` is on the
 * machine, its CPython twin in `python/`, and says whether both printed the
 * same lines. Lines starting with `#` measure one run (times, pids) and are
 * left out of the comparison; CPython's are printed after ours.
 *
 * @module
 */

const EXAMPLES = ["thread_pool", "fetch_titles", "process_pool", "worker_pool"];

async function output(
  command: string,
  args: string[],
): Promise<string | undefined> {
  try {
    const { success, stdout, stderr } = await new Deno.Command(command, {
      args,
      stdin: "null",
    }).output();
    if (!success) {
      console.error(new TextDecoder().decode(stderr));
      throw new Error(`${command} ${args.join(" ")} failed`);
    }
    return new TextDecoder().decode(stdout);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** The lines of `text` that start with `#`, or all the others. */
function lines(text: string, measured: boolean): string[] {
  return text.trimEnd().split("\n").filter((line) =>
    line.startsWith("#") === measured
  );
}

const here = new URL(".", import.meta.url);
let mismatches = 0;
for (const name of EXAMPLES) {
  const script = new URL(`${name}.ts`, here).pathname;
  console.log(`=== examples/${name}.ts`);
  const ours = await output(Deno.execPath(), ["run", "-A", script]);
  if (ours === undefined) throw new Error("Deno could not run itself");
  console.log(ours.trimEnd());
  const twin = `examples/python/${name}.py`;
  const python = await output("python3", [
    new URL(`python/${name}.py`, here).pathname,
  ]);
  if (python === undefined) {
    console.log("(python3 not found: no comparison)");
  } else if (
    lines(python, false).join("\n") === lines(ours, false).join("\n")
  ) {
    console.log(`--- the same as CPython's (${twin}), which measured:`);
    console.log(lines(python, true).join("\n"));
  } else {
    mismatches++;
    console.log(`--- CPython (${twin}) printed something else:\n${python}`);
  }
}
Deno.exit(mismatches === 0 ? 0 : 1);
