/**
 * How a function reaches a worker process: by reference when it is an
 * export of one of the pool's `modules` (as Python pickles a function by its
 * qualified name), else by its source text, which each worker compiles once.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { DataCloneError } from "../workers/_codec.ts";
import type { FnRef } from "../workers/_messages.ts";

/** A function sent by source: its pool-wide key and its text. */
export interface SourceRef {
  readonly k: number;
  readonly src: string;
}

/** How a function travels: a module export, or a source. */
export type Shipped = { readonly m: string; readonly e: string } | SourceRef;

type AnyFunction = (...args: never[]) => unknown;

/** The end of the source text of a native or bound function. */
const NATIVE = /\{\s*\[native code\]\s*\}\s*$/;

/**
 * The URL a worker imports for one entry of `modules`: URLs as they are,
 * paths resolved against the current directory.
 *
 * @param module A URL, or an absolute or relative path.
 * @returns The module's absolute URL.
 */
export function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  // A scheme of two letters or more: `file:`, `https:`, `jsr:`, not `C:`.
  if (/^[A-Za-z][A-Za-z\d+.-]+:/.test(module)) return new URL(module).href;
  const path = isAbsolute(module) ? module : resolve(process.cwd(), module);
  return pathToFileURL(path).href;
}

/** The functions of one pool: which are module exports, and the keys of
 * those sent by source. */
export class FunctionShipping {
  readonly #exports = new Map<AnyFunction, Shipped>();
  readonly #sources = new WeakMap<AnyFunction, Shipped>();
  // A lambda written inside a loop is a new function object each time, with
  // the same text: one key per text keeps the workers' compiled functions
  // and the messages from growing with every call. Sharing is safe since a
  // function sent by source may use only its parameters and globals.
  readonly #byText = new Map<string, SourceRef>();
  #nextKey = 1;
  // `submit(f, …)` in a loop sends one function many times: skip the lookup.
  #last: AnyFunction | undefined;
  #lastShipped: Shipped | undefined;

  /**
   * Imports `modules` here, as the workers will, to recognise their exports.
   *
   * The main module is imported but not waited for: it may be the module
   * whose top-level await is waiting for this pool, and then its import
   * never settles. Until it does, its functions go by source, and the
   * workers recognise them by their text (see `workers/process_worker.ts`).
   *
   * @param modules Module URLs, from {@linkcode moduleUrl}.
   */
  async load(modules: readonly string[]): Promise<void> {
    const main = mainModuleUrl();
    await Promise.all(modules.map((url) => {
      const loading = import(url).then((namespace) =>
        this.#register(url, namespace)
      );
      if (url !== main) return loading;
      loading.catch(() => {}); // the workers will say what is wrong with it
      return undefined;
    }));
  }

  #register(url: string, namespace: Record<string, unknown>): void {
    for (const [name, value] of Object.entries(namespace)) {
      if (typeof value !== "function") continue;
      const fn = value as AnyFunction;
      // The first name wins for a function exported twice: any will do.
      if (!this.#exports.has(fn)) this.#exports.set(fn, { m: url, e: name });
    }
    this.#last = undefined; // it may now go by reference
  }

  /**
   * How `fn` travels.
   *
   * @param fn The function to send.
   * @returns Its module reference, or its source key and text.
   * @throws {DataCloneError} For a native or bound function, which has no
   * source to send and is no export of `modules`.
   */
  ship(fn: AnyFunction): Shipped {
    if (fn === this.#last) return this.#lastShipped!;
    let shipped = this.#exports.get(fn) ?? this.#sources.get(fn);
    if (shipped === undefined) {
      const src = sourceOf(fn);
      let byText = this.#byText.get(src);
      if (byText === undefined) {
        byText = { k: this.#nextKey++, src };
        this.#byText.set(src, byText);
      }
      shipped = byText;
      this.#sources.set(fn, shipped);
    }
    this.#last = fn;
    this.#lastShipped = shipped;
    return shipped;
  }
}

/**
 * The reference a message carries: a module export, or a source key with
 * the text only when the worker has not had it yet (`sent` records it).
 *
 * @param shipped How the function travels.
 * @param sent The source keys the worker has.
 * @returns The `FnRef` to send.
 */
export function refFor(shipped: Shipped, sent: ReadonlySet<number>): FnRef {
  if (!("k" in shipped)) return shipped;
  return sent.has(shipped.k) ? { k: shipped.k } : shipped;
}

/** The URL of the module this process started with, if it has one. */
function mainModuleUrl(): string | undefined {
  const main = process.argv[1];
  if (main === undefined || main === "") return undefined;
  return /^[A-Za-z][A-Za-z\d+.-]+:/.test(main)
    ? new URL(main).href
    : pathToFileURL(main).href;
}

function sourceOf(fn: AnyFunction): string {
  const src = Function.prototype.toString.call(fn);
  if (!NATIVE.test(src)) return src;
  const name = fn.name === "" ? "an anonymous function" : `"${fn.name}"`;
  const why = fn.name.startsWith("bound ")
    ? "a bound function has no source to send"
    : "a native function has no source to send";
  return fail(
    `cannot send ${name} to a worker: ${why}. Export it (or a function ` +
      "that calls it) from a module listed in the pool's `modules` option",
  );
}

function fail(message: string): never {
  throw new DataCloneError(message);
}
