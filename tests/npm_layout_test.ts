/**
 * The package as JSR serves it to Bun and Node: every module transpiled to a
 * `.js` file beside it, with the relative specifiers of imports rewritten to
 * `.js` and nothing else touched, under a `package.json` of `"type":
 * "module"`. Built here with esbuild, then both CPU pools run from it on each
 * runtime.
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
import { fileURLToPath, pathToFileURL } from "node:url";
import { missingPrograms, test } from "./_harness.ts";
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
  writeFileSync(join(out, "package.json"), '{ "type": "module" }\n');
  return out;
}

for (const [runtime, major] of [["bun", 1], ["node", 22]] as const) {
  test(`both CPU pools run from the npm layout on ${runtime}`, async () => {
    const layout = buildLayout();
    try {
      const script = runScript(
        [runtime, MAIN, pathToFileURL(join(layout, "mod.js")).href],
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
  }, missingPrograms({ esbuild: 0, [runtime]: major }));
}
