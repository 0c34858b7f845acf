/**
 * `deno task test`: the whole suite on Deno, then on Bun, and one closing
 * line `tests: N passed, N failed` summed over both. Bun comes from `PATH`,
 * else from npm through `npx -y bun@1`, so a machine with only Node and npm
 * can run it after `npx -y deno@2 task test`.
 *
 * Arguments are passed to both runners (e.g. a test file to run alone).
 *
 * @module
 */

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
    env: { NO_COLOR: "1" },
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

async function bunCommand(): Promise<string[]> {
  try {
    const { success } = await new Deno.Command("bun", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    if (success) return ["bun"];
  } catch {
    // Not on PATH: fetch it from npm below.
  }
  return ["npx", "-y", "bun@1"];
}

const extra = Deno.args;
const deno = await run(
  [
    Deno.execPath(),
    "test",
    "-A",
    "--no-prompt",
    ...(extra.length ? extra : ["tests/"]),
  ],
  parseDeno,
);
const bun = await run(
  [
    ...await bunCommand(),
    "test",
    "--timeout",
    "60000",
    ...(extra.length ? extra : ["tests/"]),
  ],
  parseBun,
);
const passed = deno.passed + bun.passed;
const failed = deno.failed + bun.failed;
console.log(`\ndeno: ${deno.passed} passed, ${deno.failed} failed`);
console.log(`bun: ${bun.passed} passed, ${bun.failed} failed`);
console.log(`tests: ${passed} passed, ${failed} failed`);
Deno.exit(deno.ok && bun.ok && failed === 0 ? 0 : 1);
