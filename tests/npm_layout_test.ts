/**
 * The package as JSR serves it to Bun and Node: every module transpiled to a
 * `.js` file beside it, with the relative specifiers of imports rewritten to
 * `.js` and nothing else touched. Built here with esbuild, then both CPU
 * pools run from it on each runtime.
 *
 * The tools come from `PATH`. Where one is missing the test is skipped,
 * except under CI, whose `.ci/run` installs them all.
 *
 * @module
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { test } from "./_harness.ts";
import { runScript } from "./_script.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** What `deno publish` ships (deno.json excludes the rest). */
const PUBLISHED = ["future", "executor", "workers"];
const MAIN = fileURLToPath(
  new URL("./fixtures/layout_main.ts", import.meta.url),
);
/** Import and export specifiers, static or dynamic, of a relative `.ts`
 * module: the ones JSR rewrites. A URL built at run time is not one. */
const RELATIVE_TS_IMPORT =
  /(\bfrom\s*|\bimport\s*\(\s*)(["'])(\.{1,2}\/[^"']+)\.ts\2/g;

/** The version `program --version` prints, or `undefined` when it does not
 * run. */
function versionOf(program: string): string | undefined {
  try {
    const output = execFileSync(program, ["--version"], { encoding: "utf8" });
    return /\d+\.\d+\.\d+/.exec(output)?.[0];
  } catch {
    return undefined;
  }
}

function missing(tools: Record<string, boolean>): string | undefined {
  const absent = Object.keys(tools).filter((tool) => !tools[tool]);
  if (absent.length === 0) return undefined;
  const reason = `${absent.join(" and ")} not on PATH`;
  if (process.env.CI) throw new Error(`under CI, ${reason}`);
  return reason;
}

/** Builds the layout in a new directory and returns it. */
function buildLayout(): string {
  const out = mkdtempSync(join(tmpdir(), "futures-npm-layout-"));
  const sources = [
    "mod.ts",
    ...PUBLISHED.flatMap((dir) =>
      readdirSync(join(ROOT, dir))
        .filter((name) => name.endsWith(".ts"))
        .map((name) => join(dir, name))
    ),
  ];
  execFileSync("esbuild", [
    ...sources,
    `--outdir=${out}`,
    "--outbase=.",
    "--format=esm",
    "--target=es2022",
    "--log-level=warning",
  ], { cwd: ROOT });
  for (const source of sources) {
    const file = join(out, source.replace(/\.ts$/, ".js"));
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace(RELATIVE_TS_IMPORT, "$1$2$3.js$2"));
  }
  return out;
}

const skip = missing({
  esbuild: versionOf("esbuild") !== undefined,
  bun: versionOf("bun") !== undefined,
});

test("both CPU pools run from the npm layout on Bun", async () => {
  const layout = buildLayout();
  try {
    const script = runScript(
      ["bun", MAIN, pathToFileURL(join(layout, "mod.js")).href],
      {},
      30_000,
    );
    assert.deepEqual(JSON.parse(await script.line), {
      fromProcesses: [1, 4, 9],
      fromWorkers: [16, 25, 36],
    });
    assert.deepEqual(await script.exited, { code: 0, signal: null });
  } finally {
    rmSync(layout, { recursive: true, force: true });
  }
}, skip);
