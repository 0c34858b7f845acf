/**
 * `deno task example`: runs every example and, where `python3` is on the
 * machine, its CPython twin in `python/`, and says whether both printed the
 * same lines.
 *
 * @module
 */

const EXAMPLES = ["thread_pool", "process_pool", "worker_pool"];

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

const here = new URL(".", import.meta.url);
let mismatches = 0;
for (const name of EXAMPLES) {
  const script = new URL(`${name}.ts`, here).pathname;
  console.log(`=== examples/${name}.ts`);
  const ours = await output(Deno.execPath(), ["run", "-A", script]);
  console.log(ours?.trimEnd());
  const python = await output("python3", [
    new URL(`python/${name}.py`, here).pathname,
  ]);
  if (python === undefined) {
    console.log("(python3 not found: no comparison)");
  } else if (python === ours) {
    console.log(`--- same output as CPython (examples/python/${name}.py)`);
  } else {
    mismatches++;
    console.log(`--- CPython printed something else:\n${python}`);
  }
}
Deno.exit(mismatches === 0 ? 0 : 1);
