/**
 * How a process worker starts on another machine, where nothing of this
 * package is installed: the remote command line runs a few lines of
 * JavaScript (the bootstrap, given on the command line itself) that read the
 * worker's modules from stdin, in one length-prefixed bundle the pool sends
 * first, import them from `data:` URLs (stripping their types where the
 * runtime cannot run TypeScript: Bun's transpiler, Node's
 * `stripTypeScriptTypes()`), and leave stdin to the worker for its frames.
 * So the remote needs only a runtime on its PATH.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RuntimeName } from "../workers/_runtime.ts";

/**
 * The bootstrap, plain JavaScript for every runtime. It reads exactly the
 * bundle's bytes from stdin (a 4-byte big-endian length, then the JSON
 * `{ entry, typescript, modules: [[name, source], …] }`, dependencies
 * first), so that the worker's frames after it are left unread; rewrites
 * each module's `"./<name>"` specifiers to the `data:` URLs of the modules
 * before it, and imports the entry.
 */
const BOOTSTRAP =
  `const deno = typeof Deno === "object", bun = typeof Bun === "object";
const { readSync } = deno ? {} : await import("node:fs");
function read(count) {
  const bytes = new Uint8Array(count);
  for (let at = 0; at < count;) {
    const got = deno
      ? Deno.stdin.readSync(bytes.subarray(at))
      : readSync(0, bytes, at, count - at, null);
    if (got === null || got === 0) throw new Error("stdin ended in the bundle");
    at += got;
  }
  return bytes;
}
const length = new DataView(read(4).buffer).getUint32(0);
const bundle = JSON.parse(new TextDecoder().decode(read(length)));
let js = (source) => source;
if (bundle.typescript && bun) {
  const transpiler = new Bun.Transpiler({ loader: "ts" });
  js = (source) => transpiler.transformSync(source);
} else if (bundle.typescript && !deno) {
  js = (await import("node:module")).stripTypeScriptTypes;
}
const type = bundle.typescript && deno ? "application/typescript" : "text/javascript";
function base64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let at = 0; at < bytes.length; at += 32768) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 32768));
  }
  return btoa(binary);
}
const urls = new Map();
for (const [name, source] of bundle.modules) {
  const linked = source.replace(/(["'])\\.\\/([\\w.-]+)\\1/g,
    (text, quote, file) => urls.has(file) ? JSON.stringify(urls.get(file)) : text);
  // Base64: Bun runs no module from a percent-encoded data: URL.
  urls.set(name, "data:" + type + ";base64," + base64(js(linked)));
}
globalThis[Symbol.for("@concurrent/futures/remote")] =
  new Map([...urls].map(([name, url]) => [url, "workers/" + name]));
await import(urls.get(bundle.entry));
`;

/**
 * The command a remote shell runs (over `ssh`) to start a worker on
 * `runtime`, found on the remote PATH.
 *
 * @param runtime The runtime the worker runs on.
 * @param env Variables to add to the worker's environment there.
 * @returns One shell command line.
 */
export function remoteCommand(
  runtime: RuntimeName,
  env: Readonly<Record<string, string>> = {},
): string {
  // Base64 keeps the shell's quoting out of the code.
  const code = `await import("data:text/javascript;base64,${btoa(BOOTSTRAP)}")`;
  const start = runtime === "deno"
    ? "deno eval --quiet"
    : runtime === "bun"
    ? "bun -e"
    : "node --no-warnings --input-type=module -e";
  const vars = Object.entries(env).map(([name, value]) =>
    quoted(`${name}=${value}`)
  );
  const withEnv = vars.length === 0 ? "" : `env ${vars.join(" ")} `;
  return `exec ${withEnv}${start} ${quoted(code)}`;
}

/** `word` as one word of a POSIX shell, whatever it holds. */
function quoted(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The bytes a remote worker is sent before its first frame: the bundle of
 * `entry` and every module it imports, found from their literal relative
 * specifiers (the worker modules import one another so only).
 *
 * @param entry The worker entry, `workers/process_worker.ts` (or `.js`).
 * @returns The length-prefixed bundle.
 * @throws {Error} When a module cannot be read.
 */
export async function workerBundle(entry: URL): Promise<Uint8Array> {
  const modules: [string, string][] = [];
  const seen = new Set<string>();
  const visit = async (url: URL): Promise<void> => {
    const name = url.pathname.split("/").pop()!;
    if (seen.has(name)) return;
    seen.add(name);
    const source = await readSource(url);
    for (const [, , file] of source.matchAll(SPECIFIER)) {
      await visit(new URL(`./${file}`, url));
    }
    modules.push([name, source]); // after its dependencies
  };
  await visit(entry);
  const bundle = {
    entry: entry.pathname.split("/").pop(),
    typescript: entry.pathname.endsWith(".ts"),
    modules,
  };
  const json = new TextEncoder().encode(JSON.stringify(bundle));
  const bytes = new Uint8Array(4 + json.length);
  new DataView(bytes.buffer).setUint32(0, json.length);
  bytes.set(json, 4);
  return bytes;
}

/** A module's relative specifier, in an `import … from` or an `import()`. */
const SPECIFIER = /(?:from\s+|import\s*\(\s*)(["'])\.\/([\w.-]+)\1/g;

async function readSource(url: URL): Promise<string> {
  if (url.protocol === "file:") {
    return readFileSync(fileURLToPath(url), "utf8");
  }
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`cannot read ${url.href}: ${response.status}`);
  }
  return await response.text();
}
