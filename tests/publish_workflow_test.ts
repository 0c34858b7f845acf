/**
 * `.github/workflows/publish.yml` publishes to JSR when a version tag is
 * pushed. GitHub reads it only then, so a mistake would show only at a
 * release: these tests read it here, with a small reader for the part of
 * YAML it uses (block maps and lists, plain and quoted scalars, comments),
 * which refuses anything else instead of guessing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "./_harness.ts";

/** What the reader makes of a document. */
type Yaml = string | Yaml[] | { [key: string]: Yaml };

interface Line {
  /** 1-based, for the error messages. */
  number: number;
  indent: number;
  text: string;
}

/** A document outside the subset, or malformed. */
class YamlError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "YamlError";
  }
}

/** `text` without its comment: from a `#` that starts it or follows a
 * space, outside quotes. */
function withoutComment(text: string): string {
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quote !== "") {
      if (char === quote) quote = "";
    } else if (char === '"' || char === "'") quote = char;
    else if (char === "#" && (i === 0 || text[i - 1] === " ")) {
      return text.slice(0, i).trimEnd();
    }
  }
  return text.trimEnd();
}

/** A scalar's value, without its quotes; refuses what this reader does not
 * know: flow collections, anchors, aliases, tags, block scalars. */
function scalar(text: string, line: number): string {
  const quoted = /^(["'])(.*)\1$/.exec(text);
  if (quoted) {
    return quoted[1] === "'"
      ? quoted[2].replaceAll("''", "'")
      : quoted[2].replace(/\\(.)/g, "$1");
  }
  if (/^[[{&*!|>%@`"']/.test(text)) {
    throw new YamlError(line, `unsupported scalar: ${text}`);
  }
  return text;
}

/** `key: value` or `key:`, or `undefined` when `text` is not a map entry. */
function entry(text: string): [string, string] | undefined {
  const match = /^("[^"]*"|'[^']*'|[^\s"'#:][^:]*?):(?:\s+(.*))?$/.exec(text);
  return match ? [match[1], match[2] ?? ""] : undefined;
}

/** Reads `source`, a YAML document of block maps, block lists and scalars,
 * every scalar as a string. */
function readYaml(source: string): Yaml {
  const lines: Line[] = [];
  source.split("\n").forEach((raw, index) => {
    const number = index + 1;
    const text = withoutComment(raw);
    if (text.trim() === "") return;
    const indent = /^ */.exec(text)![0].length;
    if (text[indent] === "\t") throw new YamlError(number, "tab indentation");
    lines.push({ number, indent, text: text.slice(indent) });
  });
  if (lines.length === 0) throw new YamlError(1, "empty document");
  const [value, next] = block(lines, 0, lines[0].indent);
  if (next < lines.length) {
    throw new YamlError(lines[next].number, "unexpected indentation");
  }
  return value;
}

/** Whether `text` is a list item: `- …`. */
function isItem(text: string): boolean {
  return text === "-" || text.startsWith("- ");
}

/** The block of `lines` from `start` at `indent`, and the index after it. */
function block(lines: Line[], start: number, indent: number): [Yaml, number] {
  return isItem(lines[start].text)
    ? list(lines, start, indent)
    : map(lines, start, indent);
}

/** A nested block under the line before `start`, if it is indented more. */
function nested(
  lines: Line[],
  start: number,
  indent: number,
): [Yaml, number] | undefined {
  const line = lines[start];
  return line !== undefined && line.indent > indent
    ? block(lines, start, line.indent)
    : undefined;
}

function list(lines: Line[], start: number, indent: number): [Yaml, number] {
  const items: Yaml[] = [];
  let i = start;
  while (i < lines.length && lines[i].indent === indent) {
    const line = lines[i];
    if (!isItem(line.text)) {
      throw new YamlError(line.number, "a map entry among list items");
    }
    const rest = line.text.slice(1).trimStart();
    if (rest === "") {
      const inner = nested(lines, i + 1, indent);
      if (inner === undefined) throw new YamlError(line.number, "empty item");
      items.push(inner[0]);
      i = inner[1];
    } else if (entry(rest) !== undefined) {
      // `- key: value`: a map whose entries line up with `key`.
      const at = indent + line.text.length - rest.length;
      lines[i] = { number: line.number, indent: at, text: rest };
      const [value, next] = map(lines, i, at);
      items.push(value);
      i = next;
    } else {
      items.push(scalar(rest, line.number));
      i++;
    }
  }
  return [items, i];
}

function map(lines: Line[], start: number, indent: number): [Yaml, number] {
  const entries: { [key: string]: Yaml } = {};
  let i = start;
  while (i < lines.length && lines[i].indent === indent) {
    const line = lines[i];
    const found = isItem(line.text) ? undefined : entry(line.text);
    if (found === undefined) {
      throw new YamlError(line.number, `not a map entry: ${line.text}`);
    }
    const key = scalar(found[0], line.number);
    if (Object.hasOwn(entries, key)) {
      throw new YamlError(line.number, `duplicate key: ${key}`);
    }
    if (found[1] !== "") {
      entries[key] = scalar(found[1], line.number);
      i++;
      continue;
    }
    const inner = nested(lines, i + 1, indent);
    if (inner === undefined) {
      throw new YamlError(line.number, `no value for ${key}`);
    }
    entries[key] = inner[0];
    i = inner[1];
  }
  return [entries, i];
}

/** The map at `path` in `yaml`; fails, naming the path, if there is none. */
function mapAt(yaml: Yaml, path: string): { [key: string]: Yaml } {
  let value: Yaml | undefined = yaml;
  for (const key of path.split(".")) {
    const here: Yaml | undefined = value;
    value = typeof here === "object" && !Array.isArray(here)
      ? here[key]
      : undefined;
  }
  assert.ok(
    typeof value === "object" && !Array.isArray(value),
    `the workflow has no map at ${path}`,
  );
  return value;
}

/** A GitHub filter pattern (`v*`, `v[0-9]+.*`) as a regular expression, for
 * the patterns made of literal text, `*` and `**`. */
function pattern(glob: string): RegExp {
  const source = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&")
    .replace(/\*\*?/g, (stars) => stars === "**" ? ".*" : "[^/]*");
  return new RegExp(`^${source}$`);
}

const WORKFLOW = new URL("../.github/workflows/publish.yml", import.meta.url);
const VERSION = JSON.parse(
  readFileSync(new URL("../deno.json", import.meta.url), "utf8"),
).version as string;

function workflow(): Yaml {
  try {
    return readYaml(readFileSync(WORKFLOW, "utf8"));
  } catch (error) {
    if (!(error instanceof YamlError)) throw error;
    throw new Error(`.github/workflows/publish.yml, ${error.message}`);
  }
}

test("readYaml() reads block maps, lists of maps, quotes and comments", () => {
  assert.deepEqual(
    readYaml(
      [
        "name: Publish # trailing",
        "jobs:",
        "  one:",
        "    steps:",
        "      - uses: a@v1",
        "        with:",
        "          x: 'it''s'",
        '      - run: echo "#1" # not the first #',
        "      - plain",
      ].join("\n"),
    ),
    {
      name: "Publish",
      jobs: {
        one: {
          steps: [
            { uses: "a@v1", with: { x: "it's" } },
            { run: 'echo "#1"' },
            "plain",
          ],
        },
      },
    },
  );
});

test("readYaml() refuses bad indentation and duplicate keys", () => {
  assert.throws(() => readYaml("a:\n  b: 1\n c: 2"), /line 3: unexpected/);
  assert.throws(() => readYaml("a: 1\na: 2"), /line 2: duplicate key: a/);
  assert.throws(() => readYaml("a:\n\tb: 1"), /line 2: tab indentation/);
  assert.throws(() => readYaml("a:\nb: 1"), /line 1: no value for a/);
  assert.throws(() => readYaml("a:\n  - 1\n  b: 2"), /line 3: a map entry/);
  assert.throws(() => readYaml("a: 1\n- 2"), /line 2: not a map entry/);
  assert.throws(() => readYaml("run: |\n  x"), /line 1: unsupported scalar/);
  assert.throws(
    () => readYaml('# on:\non:\n  push:\n    tags: ["v*"]'),
    /line 4: unsupported scalar: \["v\*"\]/,
  );
});

test("publish.yml runs on a pushed version tag, and on nothing else", () => {
  const on = mapAt(workflow(), "on");
  assert.deepEqual(Object.keys(on), ["push"], "the workflow runs on push only");
  const push = mapAt(on, "push");
  assert.deepEqual(
    Object.keys(push),
    ["tags"],
    "a push runs it for its tags only (no branches)",
  );
  const tags = push.tags;
  assert.ok(Array.isArray(tags), "on.push.tags is a list of patterns");
  const tag = `v${VERSION}`;
  assert.ok(
    tags.some((glob) => typeof glob === "string" && pattern(glob).test(tag)),
    `no pattern of on.push.tags matches ${tag}`,
  );
  assert.ok(
    tags.every((glob) =>
      typeof glob === "string" && !pattern(glob).test(VERSION)
    ),
    `a tag without the v (${VERSION}) would publish too`,
  );
});

test("publish.yml grants id-token: write, and reads the contents only", () => {
  const yaml = workflow();
  const jobs = mapAt(yaml, "jobs");
  for (const name of Object.keys(jobs)) {
    const own = mapAt(jobs, name).permissions;
    const permissions = own === undefined
      ? mapAt(yaml, "permissions") // a job without its own gets these
      : mapAt(jobs, `${name}.permissions`);
    assert.equal(
      permissions["id-token"],
      "write",
      `job ${name} needs id-token: write, the OIDC token JSR takes`,
    );
    assert.equal(permissions.contents, "read", `job ${name}: contents: read`);
    for (const [scope, access] of Object.entries(permissions)) {
      if (scope !== "id-token") {
        assert.notEqual(access, "write", `job ${name} may write ${scope}`);
      }
    }
  }
});

test("publish.yml checks out, sets up Deno, then publishes", () => {
  const jobs = mapAt(workflow(), "jobs");
  const publishing = Object.keys(jobs).flatMap((name) => {
    const steps = mapAt(jobs, name).steps;
    assert.ok(Array.isArray(steps), `job ${name} has a list of steps`);
    const field = (step: Yaml, key: string) =>
      typeof step === "object" && !Array.isArray(step) &&
        typeof step[key] === "string"
        ? step[key] as string
        : "";
    const at = steps.findIndex((step) =>
      /^(deno publish|npx jsr publish)\b/m.test(field(step, "run"))
    );
    if (at === -1) return [];
    const publish = field(steps[at], "run");
    assert.doesNotMatch(publish, /--dry-run/, `job ${name} only pretends`);
    assert.doesNotMatch(
      publish,
      /--no-provenance/,
      `job ${name} publishes without provenance`,
    );
    const before = steps.slice(0, at).map((step) => field(step, "uses"));
    assert.ok(
      before.some((uses) => uses.startsWith("actions/checkout@")),
      `job ${name} publishes without checking out the repository first`,
    );
    // GitHub's runners have Node, not Deno.
    if (publish.startsWith("deno")) {
      assert.ok(
        before.some((uses) => uses.startsWith("denoland/setup-deno@")),
        `job ${name} runs deno publish without setting up Deno first`,
      );
    }
    return [name];
  });
  assert.equal(publishing.length, 1, "one job has a step that publishes");
});
