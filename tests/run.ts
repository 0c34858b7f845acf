/**
 * `deno task test`: the whole suite on Deno, then on Bun, then on Node, and
 * one closing line `tests: N passed, N failed` summed over the three. Bun,
 * Node (22 or later) and esbuild come from `PATH`, else from npm through
 * `npx` (see `_locate.ts`), whose folders then join the suites' `PATH`: a
 * machine with only Node and npm runs it all, cross-runtime and npm layout
 * tests included, after `npx -y deno@2 task test`.
 *
 * Arguments are passed to every runner (e.g. a test file to run alone).
 *
 * @module
 */
import { delimiter } from "node:path";
import { locate, type Located } from "./_locate.ts";

interface Counts {
  passed: number;
  failed: number;
}

/** Runs one runtime's suite, or counts one failure when that runtime could
 * be neither found nor fetched (`locate()` said why). */
async function run(
  runtime: Located | undefined,
  args: string[],
  parse: (output: string) => Counts | undefined,
): Promise<Counts & { ok: boolean }> {
  if (runtime === undefined) return { passed: 0, failed: 1, ok: false };
  const argv = [runtime.command, ...args];
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

const bun = await locate("bun", 1, "bun@1");
const node = await locate("node", 22, "node@24");
// Builds the npm layout in tests/npm_layout_test.ts, which skips without it.
const esbuild = await locate("esbuild", 0, "esbuild");
const folders = [bun, node, esbuild].flatMap((found) => found?.folder ?? []);
const PATH = [...folders, Deno.env.get("PATH") ?? ""].join(delimiter);

const extra = Deno.args;
const denoCounts = await run(
  { command: Deno.execPath() },
  [
    "test",
    "-A",
    "--no-prompt",
    ...(extra.length ? extra : ["tests/"]),
  ],
  parseDeno,
);
const bunCounts = await run(
  bun,
  [
    "test",
    "--timeout",
    "60000",
    ...(extra.length ? extra : ["tests/"]),
  ],
  parseBun,
);
const nodeCounts = await run(
  node,
  [
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
