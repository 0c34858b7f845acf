/**
 * `deno task test`: the whole suite on Deno, then on Bun, then on Node, and
 * one closing line `tests: N passed, N failed` summed over the three. Bun
 * and Node come from `PATH` (Node 22 or later), else from npm through
 * `npx -y bun@1` and `npx -y node@24`, whose folders then join the suites'
 * `PATH`: a machine with only Node and npm runs it all, cross-runtime tests
 * included, after `npx -y deno@2 task test`.
 *
 * Arguments are passed to every runner (e.g. a test file to run alone).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

interface Counts {
  passed: number;
  failed: number;
}

async function run(
  argv: string[],
  parse: (output: string) => Counts | undefined,
): Promise<Counts & { ok: boolean }> {
  console.log(`\n$ ${argv.join(" ")}`);
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    // Plain text, so that the summaries can be read back.
    env: { NO_COLOR: "1", PATH },
  }).spawn();
  const collected: string[] = [];
  const decoder = () => new TextDecoderStream();
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    sink: typeof Deno.stdout,
  ) => {
    const encoder = new TextEncoder();
    for await (const text of stream.pipeThrough(decoder())) {
      collected.push(text);
      await sink.write(encoder.encode(text));
    }
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  const counts = parse(collected.join(""));
  if (counts === undefined) {
    console.error(`could not read a test summary from ${argv[0]}`);
    return { passed: 0, failed: 1, ok: false };
  }
  return { ...counts, ok: status.success };
}

function parseDeno(output: string): Counts | undefined {
  const match = /(?:ok|FAILED) \| (\d+) passed.*? \| (\d+) failed/.exec(output);
  return match ? { passed: +match[1], failed: +match[2] } : undefined;
}

function parseBun(output: string): Counts | undefined {
  const passed = /^\s*(\d+) pass$/m.exec(output);
  const failed = /^\s*(\d+) fail$/m.exec(output);
  if (!passed || !failed) return undefined;
  return { passed: +passed[1], failed: +failed[1] };
}

function parseNode(output: string): Counts | undefined {
  const passed = /^ℹ pass (\d+)$/m.exec(output);
  const failed = /^ℹ fail (\d+)$/m.exec(output);
  if (!passed || !failed) return undefined;
  return { passed: +passed[1], failed: +failed[1] };
}

/** `program` when `PATH` has it at `major` or later, else `fallback`. */
/**
 * The command that runs `program` at version `major` or later: the one on
 * `PATH`, else the one npm fetches through `npx -y <npm>`, whose `.bin`
 * folder then joins the suites' `PATH` so that the tests which start this
 * runtime find it too.
 */
async function locate(
  program: string,
  major: number,
  npm: string,
): Promise<string> {
  try {
    const { success, stdout } = await new Deno.Command(program, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const version = /(\d+)\.\d+\.\d+/.exec(new TextDecoder().decode(stdout));
    if (success && version && +version[1] >= major) return program;
  } catch {
    // Not on PATH: fetch it from npm.
  }
  console.log(`\n$ npx -y ${npm}`);
  const { success, stdout } = await new Deno.Command("npx", {
    args: ["-y", npm, "--print", "process.execPath"],
    stdout: "piped",
    stdin: "null",
  }).output();
  const executable = new TextDecoder().decode(stdout).trim();
  if (!success || executable === "") throw new Error(`npx -y ${npm} failed`);
  // npx installs into …/node_modules/<package>/bin/, beside …/node_modules/.bin
  const bin = join(dirname(executable), "..", "..", ".bin");
  if (!existsSync(join(bin, program))) return executable;
  paths.unshift(bin);
  return join(bin, program);
}

/** Folders put before `PATH` for the suites. */
const paths: string[] = [];
const bun = await locate("bun", 1, "bun@1");
const node = await locate("node", 22, "node@24");
const PATH = [...paths, Deno.env.get("PATH") ?? ""].join(delimiter);

const extra = Deno.args;
const denoCounts = await run(
  [
    Deno.execPath(),
    "test",
    "-A",
    "--no-prompt",
    ...(extra.length ? extra : ["tests/"]),
  ],
  parseDeno,
);
const bunCounts = await run(
  [
    bun,
    "test",
    "--timeout",
    "60000",
    ...(extra.length ? extra : ["tests/"]),
  ],
  parseBun,
);
const nodeCounts = await run(
  [
    node,
    "--test",
    "--test-reporter=spec",
    // One file at a time, as Deno and Bun run them.
    "--test-concurrency=1",
    "--test-timeout=60000",
    ...(extra.length ? extra : ["tests/*_test.ts"]),
  ],
  parseNode,
);
const results = { deno: denoCounts, bun: bunCounts, node: nodeCounts };
let passed = 0;
let failed = 0;
console.log("");
for (const [name, counts] of Object.entries(results)) {
  console.log(`${name}: ${counts.passed} passed, ${counts.failed} failed`);
  passed += counts.passed;
  failed += counts.failed;
}
console.log(`tests: ${passed} passed, ${failed} failed`);
const ok = Object.values(results).every((counts) => counts.ok);
Deno.exit(ok && failed === 0 ? 0 : 1);
