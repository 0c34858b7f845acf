/**
 * The README's first example, offline: fetches the titles of a few pages on
 * a thread pool and prints them as they arrive, with `asCompleted`. The
 * pages come from a server on 127.0.0.1 started here, which answers each
 * after its own delay, so that the order is the same on every run. Prints
 * what `python/fetch_titles.py` prints, and lines starting with `#` that
 * measure this run.
 *
 * @module
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { asCompleted, ThreadPoolExecutor } from "../mod.ts";

/** The pages of the local server: the title, and the ms it takes. */
const PAGES: Record<string, [string, number]> = {
  "/deno": ["Deno", 300],
  "/bun": ["Bun", 100],
  "/python": ["Python", 200],
};

const server = createServer((request, response) => {
  const page = PAGES[request.url ?? ""];
  if (page === undefined) {
    response.writeHead(404).end();
    return;
  }
  const [title, delay] = page;
  setTimeout(() => response.end(`<title>${title}</title>`), delay);
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function fetchTitle(path: string): Promise<string> {
  const response = await fetch(base + path);
  const html = await response.text();
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return /<title>(.*?)<\/title>/.exec(html)?.[1] ?? path;
}

const paths = ["/deno", "/bun", "/python", "/missing"];
{
  await using pool = new ThreadPoolExecutor({ maxWorkers: 4 });
  const start = performance.now();
  const futures = paths.map((path) => pool.submit(fetchTitle, path));
  for await (const future of asCompleted(futures)) {
    try {
      console.log(await future.result());
    } catch (error) {
      console.log("failed:", (error as Error).message);
    }
  }
  const elapsed = performance.now() - start;
  const serial = Object.values(PAGES).reduce((sum, [, ms]) => sum + ms, 0);
  console.log(
    `# ${paths.length} fetches, 4 at a time: ${elapsed.toFixed(0)} ms`,
    `(one after another: over ${serial} ms)`,
  );
}
server.close();
