/**
 * The value codec of the process pool: arguments and results cross the
 * process boundary inside a JSON frame with the fidelity of `structuredClone`.
 *
 * ## Wire format
 *
 * Plain JSON data travels as itself, so that it costs what `JSON.stringify`
 * and `JSON.parse` cost: strings, booleans, `null`, finite numbers other
 * than `-0`, arrays without holes and objects whose prototype is
 * `Object.prototype` or `null`, forming a tree (no object reached twice),
 * whose top-level object has no own `$codec` key.
 *
 * Any other value is sent as a graph of the objects it reaches:
 *
 * ```text
 * { "$codec": [root, node1, node2, ...] }
 * ```
 *
 * `root` is a slot. Each node is one object (or bigint) of the value, in the
 * order first reached, so a value reached twice is one node and shared and
 * cyclic references survive. A slot is either
 * - a JSON literal standing for itself: a string, a boolean, `null`, or a
 *   finite number other than `-0`; or
 * - a one-element array: `[i]` with `i > 0` is node `i`; `[-1]` is
 *   `undefined`, `[-2]` `NaN`, `[-3]` `Infinity`, `[-4]` `-Infinity`,
 *   `[-5]` `-0`.
 *
 * A node is one of
 *
 * | node | value |
 * | --- | --- |
 * | `{"key": slot, ...}` | object: own enumerable string keys (class instances arrive as plain objects) |
 * | `["A", slot, ...]` | array |
 * | `["H", length, index, slot, ...]` | array with holes: only the indices present |
 * | `["D", ms]` | `Date` (`ms` is `null` for an invalid date) |
 * | `["R", source, flags]` | `RegExp` |
 * | `["M", keySlot, valueSlot, ...]` | `Map` |
 * | `["S", slot, ...]` | `Set` |
 * | `["I", "-123"]` | `BigInt`, in decimal |
 * | `["P", slot]` | boxed primitive, `Object(x)` |
 * | `["B", section, maxByteLength?]` | `ArrayBuffer`: its bytes are byte section number `section` of the frame (resizable when `maxByteLength` is there) |
 * | `["V", type, bufferSlot, byteOffset, length]` | typed array (`length` in elements) or `DataView` (in bytes) |
 * | `["E", {"name": slot, "message"?: slot, "stack"?: slot, "cause"?: slot, "errors"?: slot, ...}]` | `Error`: the other keys are its own enumerable properties |
 *
 * The bytes of every `ArrayBuffer` (and so of every typed array and
 * `DataView`) travel beside the JSON, not in it: {@linkcode sectionsOf}
 * lists them for the frame writer, which sends them raw after the JSON, and
 * {@linkcode decode} takes them back from the frame reader. An ArrayBuffer
 * reached twice is one node and one section. Typed arrays carry their bytes
 * in the sender's byte order, which is little endian on every platform the
 * runtimes support.
 *
 * Differences from `structuredClone`:
 * - properties other than indices on an array are dropped (as
 *   `JSON.stringify` drops them);
 * - an `Error` keeps its `name` and its own enumerable properties
 *   (`structuredClone` drops both);
 * - objects are told apart by `Symbol.toStringTag`: built-ins the codec does
 *   not know (`URL`, `Blob`, streams, `SharedArrayBuffer`, …) are refused,
 *   even where `structuredClone` copies them, since their contents cannot be
 *   read synchronously or would not be shared across processes; so is an
 *   instance of a user class that defines `Symbol.toStringTag`;
 * - a proxy is read through its traps (`structuredClone` refuses it), and a
 *   getter of plain data runs twice: once for the check, once for
 *   `JSON.stringify`.
 *
 * @module
 */

/**
 * A value that cannot reach a worker, or come back from one: a function, a
 * symbol, a `WeakMap`, a stream… in an argument or a result. The message
 * says what the value is and where it sits (`argument 1 → .items[3].cb:
 * function cannot be sent`). It fails that call's future only; the pool
 * goes on.
 *
 * @example
 * ```ts
 * import { DataCloneError, ProcessPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
 * const call = pool.submit((o: object) => Object.keys(o), { cb: () => 1 });
 * const error = await call.exception();
 * console.assert(error instanceof DataCloneError);
 * ```
 */
export class DataCloneError extends Error {
  /** Makes the error; `name` is `"DataCloneError"`, like the
   * `DOMException` that `structuredClone` throws. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DataCloneError";
  }
}

/** The key that marks a graph on the wire; a plain object carrying it at the
 * top is sent as a graph so that decode never mistakes it for one. */
const MARKER = "$codec";

/** Where a graph keeps its byte sections: a symbol key, which
 * `JSON.stringify` skips. */
const SECTIONS = Symbol("sections");

const NO_SECTIONS: readonly Uint8Array[] = Object.freeze([]);

/**
 * Returns a JSON-safe representation of `value` (what `JSON.stringify` can
 * carry losslessly), and the byte sections it refers to
 * ({@linkcode sectionsOf}); {@linkcode decode} rebuilds the value from them
 * after a `JSON.stringify`/`JSON.parse` round trip. Plain JSON data is
 * returned as is (the very same object, not a copy).
 *
 * The sections are views of the value's own buffers, not copies: they must
 * be read (written into a frame) before the value may change.
 *
 * @param value The value to send.
 * @param where Names the value in error messages, e.g. `"argument 1"`.
 * @returns `value` itself, or its graph (see the module documentation).
 * @throws {DataCloneError} When `value` holds a function, a symbol, or an
 * object that cannot be cloned, e.g.
 * `argument 1 → .items[3].cb: function cannot be sent`.
 */
export function encode(value: unknown, where: string): unknown {
  if (isPlain(value)) return value;
  return new GraphEncoder(where).encode(value);
}

/**
 * The byte sections of a wire that {@linkcode encode} returned, in the order
 * its `"B"` nodes number them.
 *
 * @param wire What `encode()` returned.
 * @returns Views of the value's buffers; empty for plain data.
 */
export function sectionsOf(wire: unknown): readonly Uint8Array[] {
  if (typeof wire !== "object" || wire === null) return NO_SECTIONS;
  return (wire as { [SECTIONS]?: Uint8Array[] })[SECTIONS] ?? NO_SECTIONS;
}

/**
 * Rebuilds a value from what {@linkcode encode} returned, after it went
 * through `JSON.stringify` and `JSON.parse`. Plain data is returned as is,
 * after one check of the top-level value.
 *
 * @param wire The parsed JSON.
 * @param sections The byte sections that came with it, each in a buffer of
 * its own, which becomes the decoded `ArrayBuffer` (no copy).
 * @returns The value.
 * @throws {TypeError} When `wire` is a malformed graph, or refers to a
 * section that did not come.
 */
export function decode(
  wire: unknown,
  sections: readonly ArrayBuffer[] = [],
): unknown {
  if (
    typeof wire !== "object" || wire === null || !Object.hasOwn(wire, MARKER)
  ) {
    return wire;
  }
  const nodes = (wire as Record<string, unknown>)[MARKER];
  return new GraphDecoder(nodes, sections).decode();
}

// ---------------------------------------------------------------------------
// The plain check: must cost well under one JSON.stringify of the same data.

function isPlain(value: unknown): boolean {
  const kind = kindOf(value);
  if (kind !== WALK) return kind === LITERAL;
  if (Object.hasOwn(value as object, MARKER)) return false;
  try {
    return isPlainTree(value as object, undefined);
  } catch {
    // Recursion too deep for the stack (or a getter that throws): the graph
    // encoder walks without recursion, and re-raises a getter's error.
    return false;
  }
}

const LITERAL = 0;
const WALK = 1;
const OTHER = 2;

/** How the plain check treats one value. A small function rather than
 * inline tests: both V8 and JavaScriptCore run the walk fastest this way. */
function kindOf(v: unknown): number {
  if (typeof v === "object") return v === null ? LITERAL : WALK;
  if (typeof v === "number") {
    // Finite and not -0: the numbers JSON carries exactly.
    return (v === 0 ? 1 / v > 0 : v - v === 0) ? LITERAL : OTHER;
  }
  return typeof v === "string" || typeof v === "boolean" ? LITERAL : OTHER;
}

/** The objects a plain check has reached: a short list while there are
 * few (a scan of a few entries beats hashing), then a Set. */
interface Seen {
  list: object[];
  set: Set<object> | undefined;
}

/** How many objects a {@linkcode Seen} lists before it turns to a Set. */
const SHORT_LIST = 8;

/** Records `o`; false when it was reached before (shared or cyclic). */
function firstVisit(o: object, seen: Seen): boolean {
  const set = seen.set;
  if (set !== undefined) {
    // One hash operation, not has() then add().
    const size = set.size;
    set.add(o);
    return set.size !== size;
  }
  const list = seen.list;
  for (let i = 0; i < list.length; i++) if (list[i] === o) return false;
  if (list.length < SHORT_LIST) list.push(o);
  else seen.set = new Set(list).add(o);
  return true;
}

/** Whether `o` and what it reaches are plain data forming a tree. `seen`
 * holds every object reached so far; it is made only once the top-level
 * object turns out to hold another one, so that a flat value (an argument
 * list of primitives, a column of a batch) records nothing. */
function isPlainTree(o: object, seen: Seen | undefined): boolean {
  if (seen !== undefined && !firstVisit(o, seen)) return false;
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      // A hole reads as undefined, which is not plain either: no `in` test.
      const v: unknown = o[i];
      const kind = kindOf(v);
      if (kind === WALK) {
        seen ??= { list: [o], set: undefined };
        if (!isPlainTree(v as object, seen)) return false;
      } else if (kind === OTHER) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(o);
  if (proto !== Object.prototype && proto !== null) return false;
  // for-in also visits enumerable properties inherited from a polluted
  // Object.prototype; checking those too is harmless, and for-in is the
  // fastest key walk on both engines.
  for (const key in o) {
    const v: unknown = (o as Record<string, unknown>)[key];
    const kind = kindOf(v);
    if (kind === WALK) {
      seen ??= { list: [o], set: undefined };
      if (!isPlainTree(v as object, seen)) return false;
    } else if (kind === OTHER) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Graph encoding. Breadth first over an explicit list, never recursive, so a
// value nested a million levels deep encodes (and JSON.stringify only ever
// sees shallow nodes).

type Slot = string | number | boolean | null | readonly [number];

const UNDEFINED = Object.freeze([-1] as const);
const NAN = Object.freeze([-2] as const);
const INFINITY = Object.freeze([-3] as const);
const NEG_INFINITY = Object.freeze([-4] as const);
const NEG_ZERO = Object.freeze([-5] as const);
const CONSTANTS: readonly unknown[] = [
  undefined, // [0] is never written
  undefined,
  NaN,
  Infinity,
  -Infinity,
  -0,
];

/** How a node or a failing value was reached from its container, kept
 * unformatted so that paths cost nothing until an error needs one. */
type Step = 0 | 1 | 2 | 3 | 4 | 5;
const ROOT = 0; // the value itself
const KEY = 1; // .key or ["key"]
const INDEX = 2; // [3]
const MAP_KEY = 3; // .keys()[i]
const MAP_VALUE = 4; // .get(key), or .values()[i] for an object key
const SET_VALUE = 5; // .values()[i]

const typedArrayType = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag,
)!.get!;

function isError(value: object): boolean {
  // Error.isError sees errors of other realms; instanceof covers runtimes
  // without it and Bun's DOMException, which Error.isError rejects there.
  const builtin = (Error as { isError?: (v: unknown) => boolean }).isError;
  return (builtin !== undefined && builtin(value)) || value instanceof Error;
}

class GraphEncoder {
  readonly #where: string;
  /** `[root, node1, ...]`: the array sent under the marker key. */
  readonly #wire: unknown[] = [null];
  /** The object (or bigint) each node encodes. */
  readonly #values: unknown[] = [undefined];
  readonly #ids = new Map<unknown, number>();
  // Where each node was first reached, for error paths.
  readonly #parent: number[] = [0];
  readonly #step: Step[] = [ROOT];
  readonly #key: unknown[] = [undefined];
  readonly #index: number[] = [0];
  /** The bytes of each ArrayBuffer node, by section number. */
  readonly #sections: Uint8Array[] = [];
  /** The node being encoded: the container of the slots being made. */
  #current = 0;

  constructor(where: string) {
    this.#where = where;
  }

  encode(value: unknown): unknown {
    this.#wire[0] = this.#slot(value, ROOT, undefined, 0);
    for (let i = 1; i < this.#values.length; i++) {
      this.#current = i;
      this.#wire[i] = this.#node(this.#values[i]);
    }
    const graph: Record<string | symbol, unknown> = { [MARKER]: this.#wire };
    if (this.#sections.length > 0) graph[SECTIONS] = this.#sections;
    return graph;
  }

  #slot(v: unknown, step: Step, key: unknown, index: number): Slot {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        if (v === 0) return 1 / v > 0 ? 0 : NEG_ZERO;
        if (v - v === 0) return v;
        return v !== v ? NAN : v > 0 ? INFINITY : NEG_INFINITY;
      case "undefined":
        return UNDEFINED;
      case "object":
        if (v === null) return null;
        return this.#ref(v, step, key, index);
      case "bigint":
        return this.#ref(v, step, key, index);
      default: // function, symbol
        throw this.#error(
          `${typeof v} cannot be sent`,
          this.#path(this.#current) + label(step, key, index),
        );
    }
  }

  #ref(v: unknown, step: Step, key: unknown, index: number): Slot {
    let id = this.#ids.get(v);
    if (id === undefined) {
      id = this.#values.length;
      this.#ids.set(v, id);
      this.#values.push(v);
      this.#parent.push(this.#current);
      this.#step.push(step);
      this.#key.push(key);
      this.#index.push(index);
    }
    return [id];
  }

  #node(v: unknown): unknown {
    if (typeof v === "bigint") return ["I", v.toString()];
    const o = v as object;
    if (Array.isArray(o)) return this.#array(o);
    const proto = Object.getPrototypeOf(o);
    if (proto === Object.prototype || proto === null) return this.#object(o);
    if (o instanceof Date) {
      const ms = o.getTime();
      return ["D", ms === ms ? ms : null];
    }
    if (o instanceof RegExp) return ["R", o.source, o.flags];
    if (o instanceof Map) return this.#map(o);
    if (o instanceof Set) return this.#set(o);
    if (o instanceof ArrayBuffer) return this.#arrayBuffer(o);
    if (ArrayBuffer.isView(o)) return this.#view(o);
    if (isError(o)) return this.#errorNode(o as Error);
    const boxed = unbox(o);
    if (boxed !== o) return ["P", this.#slot(boxed, KEY, "valueOf()", 0)];
    // Built-in and host objects name themselves through Symbol.toStringTag
    // (Promise, WeakMap, URL, ReadableStream, …); structuredClone refuses
    // them, while user class instances ("Object") are copied as objects.
    const tag = Object.prototype.toString.call(o).slice(8, -1);
    if (tag === "Object") return this.#object(o);
    throw this.#error(`${tag} cannot be sent`, this.#path(this.#current));
  }

  #object(o: object): Record<string, unknown> {
    const node: Record<string, unknown> = {};
    for (const key of Object.keys(o)) {
      const slot = this.#slot(
        (o as Record<string, unknown>)[key],
        KEY,
        key,
        0,
      );
      setOwn(node, key, slot);
    }
    return node;
  }

  #array(a: readonly unknown[]): unknown[] {
    const node: unknown[] = ["A"];
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v === undefined && !(i in a)) return this.#holeyArray(a);
      node.push(this.#slot(v, INDEX, i, 0));
    }
    return node;
  }

  /** Lists only the indices present, so `new Array(1e9)` stays small. */
  #holeyArray(a: readonly unknown[]): unknown[] {
    const node: unknown[] = ["H", a.length];
    for (const key of Object.keys(a)) {
      const i = Number(key);
      if (String(i) !== key || !(i < a.length)) continue; // not an index
      node.push(i, this.#slot(a[i], INDEX, i, 0));
    }
    return node;
  }

  #map(m: Map<unknown, unknown>): unknown[] {
    const node: unknown[] = ["M"];
    let i = 0;
    for (const [k, v] of Map.prototype.entries.call(m)) {
      node.push(
        this.#slot(k, MAP_KEY, undefined, i),
        this.#slot(v, MAP_VALUE, k, i),
      );
      i++;
    }
    return node;
  }

  #set(s: Set<unknown>): unknown[] {
    const node: unknown[] = ["S"];
    let i = 0;
    for (const v of Set.prototype.values.call(s)) {
      node.push(this.#slot(v, SET_VALUE, undefined, i++));
    }
    return node;
  }

  #arrayBuffer(b: ArrayBuffer): unknown[] {
    if (b.detached) {
      throw this.#error(
        "detached ArrayBuffer cannot be sent",
        this.#path(this.#current),
      );
    }
    const node: unknown[] = ["B", this.#sections.length];
    this.#sections.push(new Uint8Array(b));
    if (b.resizable) node.push(b.maxByteLength);
    return node;
  }

  #view(v: ArrayBufferView): unknown[] {
    const type: string = typedArrayType.call(v) ?? "DataView";
    const length = type === "DataView"
      ? v.byteLength
      : (v as Uint8Array).length;
    const buffer = this.#slot(v.buffer, KEY, "buffer", 0);
    return ["V", type, buffer, v.byteOffset, length];
  }

  #errorNode(e: Error): unknown[] {
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(e)) {
      const v = (e as unknown as Record<string, unknown>)[key];
      setOwn(props, key, this.#slot(v, KEY, key, 0));
    }
    const name = e.name;
    props.name = typeof name === "string" ? name : "Error";
    if (Object.hasOwn(e, "message")) {
      props.message = this.#slot(e.message, KEY, "message", 0);
    }
    const stack = e.stack;
    if (typeof stack === "string") props.stack = stack;
    if (Object.hasOwn(e, "cause")) {
      props.cause = this.#slot(e.cause, KEY, "cause", 0);
    }
    if (Object.hasOwn(e, "errors")) {
      const errors = (e as AggregateError).errors;
      props.errors = this.#slot(errors, KEY, "errors", 0);
    }
    return ["E", props];
  }

  /** The path from the root to node `id`, e.g. `.items[3]`. */
  #path(id: number): string {
    let path = "";
    for (let i = id; i !== 0; i = this.#parent[i]) {
      path = label(this.#step[i], this.#key[i], this.#index[i]) + path;
    }
    return path;
  }

  #error(what: string, path: string): DataCloneError {
    const at = path === "" ? this.#where : `${this.#where} → ${path}`;
    return new DataCloneError(`${at}: ${what}`);
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function label(step: Step, key: unknown, index: number): string {
  switch (step) {
    case ROOT:
      return "";
    case KEY:
      return IDENTIFIER.test(key as string)
        ? `.${key}`
        : `[${JSON.stringify(key)}]`;
    case INDEX:
      return `[${key}]`;
    case MAP_KEY:
      return `.keys()[${index}]`;
    case MAP_VALUE:
      return isShowable(key) ? `.get(${showKey(key)})` : `.values()[${index}]`;
    case SET_VALUE:
      return `.values()[${index}]`;
  }
}

function isShowable(key: unknown): boolean {
  const type = typeof key;
  return key === null || (type !== "object" && type !== "function");
}

function showKey(key: unknown): string {
  if (typeof key === "string") return JSON.stringify(key);
  if (typeof key === "bigint") return `${key}n`;
  return String(key);
}

/** The primitive inside a boxed Number, String, Boolean or BigInt (read
 * through the prototype method, not the object's own `valueOf`), else `o`. */
function unbox(o: object): unknown {
  if (o instanceof Number) return Number.prototype.valueOf.call(o);
  if (o instanceof String) return String.prototype.valueOf.call(o);
  if (o instanceof Boolean) return Boolean.prototype.valueOf.call(o);
  if (o instanceof BigInt) return BigInt.prototype.valueOf.call(o);
  return o;
}

/** Assigns `target[key]`, defining the property when the key is
 * `__proto__`, where assignment would replace the prototype instead. */
function setOwn(target: object, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    (target as Record<string, unknown>)[key] = value;
  }
}

// ---------------------------------------------------------------------------
// Graph decoding, in two passes over the nodes: first make every object (so
// that any slot can refer to any node, forward or backward, cyclic or not),
// then fill the containers. No recursion beyond a view's buffer.

type ErrorConstructor = new (message?: string) => Error;

const ERROR_CLASSES = new Map<string, ErrorConstructor>([
  ["Error", Error],
  ["DataCloneError", DataCloneError],
  ["TypeError", TypeError],
  ["RangeError", RangeError],
  ["SyntaxError", SyntaxError],
  ["ReferenceError", ReferenceError],
  ["EvalError", EvalError],
  ["URIError", URIError],
]);

/** Error classes of this library that a worker may throw and the parent
 * rebuilds as such, by name; their constructors need not take a message. */
const OWN_ERROR_CLASSES = new Map<string, new (...args: never[]) => Error>();

/**
 * Makes `decode()` rebuild errors named `name` as instances of `Class`, for
 * the error classes of this library that other modules define.
 *
 * @param name The class's `name`.
 * @param Class The class.
 */
export function rebuildAs(
  name: string,
  Class: new (...args: never[]) => Error,
): void {
  OWN_ERROR_CLASSES.set(name, Class);
}

/** The keys of an error node that are not own enumerable properties. */
const ERROR_KEYS = new Set(["name", "message", "stack", "cause", "errors"]);

const VIEW_TYPES = new Set([
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float16Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
  "DataView",
]);

type ViewConstructor = new (
  buffer: ArrayBuffer,
  byteOffset: number,
  length: number,
) => ArrayBufferView;

class GraphDecoder {
  readonly #wire: readonly unknown[];
  readonly #sections: readonly ArrayBuffer[];
  readonly #values: unknown[];
  readonly #made: Uint8Array;

  constructor(wire: unknown, sections: readonly ArrayBuffer[]) {
    if (!Array.isArray(wire) || wire.length === 0) {
      throw malformed("the graph is not a non-empty array");
    }
    this.#wire = wire;
    this.#sections = sections;
    this.#values = new Array(wire.length);
    this.#made = new Uint8Array(wire.length);
  }

  decode(): unknown {
    const n = this.#wire.length;
    for (let i = 1; i < n; i++) if (this.#made[i] === 0) this.#make(i);
    for (let i = 1; i < n; i++) this.#fill(i);
    return this.#resolve(this.#wire[0]);
  }

  /** The value a slot stands for; every node must be made already. */
  #resolve(slot: unknown): unknown {
    if (typeof slot !== "object" || slot === null) return slot;
    const i = (slot as unknown[])[0];
    if (typeof i === "number" && i > 0 && i < this.#wire.length) {
      return this.#values[i];
    }
    if (typeof i === "number" && i < 0 && i >= -5) return CONSTANTS[-i];
    throw malformed(`bad slot ${JSON.stringify(slot)}`);
  }

  /** Like #resolve, for the few nodes that need another node while being
   * made (a view's buffer, a boxed bigint, an error's message). */
  #resolveNow(slot: unknown): unknown {
    if (typeof slot === "object" && slot !== null) {
      const i = (slot as unknown[])[0];
      if (typeof i === "number" && i > 0 && this.#made[i] === 0) this.#make(i);
    }
    return this.#resolve(slot);
  }

  #make(i: number): void {
    this.#made[i] = 1;
    const node = this.#wire[i];
    if (!Array.isArray(node)) {
      if (typeof node !== "object" || node === null) {
        throw malformed(`node ${i} is ${JSON.stringify(node)}`);
      }
      this.#values[i] = {};
      return;
    }
    switch (node[0]) {
      case "A":
        this.#values[i] = [];
        return;
      case "H":
        if (!Number.isInteger(node[1])) throw malformed("array length");
        this.#values[i] = new Array(node[1]);
        return;
      case "D":
        this.#values[i] = new Date(node[1] ?? NaN);
        return;
      case "R":
        this.#values[i] = new RegExp(node[1], node[2]);
        return;
      case "M":
        this.#values[i] = new Map();
        return;
      case "S":
        this.#values[i] = new Set();
        return;
      case "I":
        this.#values[i] = BigInt(node[1]);
        return;
      case "P":
        this.#values[i] = Object(this.#resolveNow(node[1]));
        return;
      case "B":
        this.#values[i] = this.#makeArrayBuffer(node[1], node[2]);
        return;
      case "V":
        this.#values[i] = this.#makeView(node);
        return;
      case "E":
        this.#values[i] = this.#makeError(node[1]);
        return;
      default:
        throw malformed(`unknown node ${JSON.stringify(node[0])}`);
    }
  }

  #makeArrayBuffer(section: unknown, maxByteLength: unknown): ArrayBuffer {
    const bytes = Number.isInteger(section)
      ? this.#sections[section as number]
      : undefined;
    if (!(bytes instanceof ArrayBuffer)) {
      throw malformed(`ArrayBuffer of missing section ${section}`);
    }
    if (maxByteLength === undefined) return bytes;
    const buffer = new ArrayBuffer(bytes.byteLength, {
      maxByteLength: maxByteLength as number,
    });
    new Uint8Array(buffer).set(new Uint8Array(bytes));
    return buffer;
  }

  #makeView(node: unknown[]): ArrayBufferView {
    const [, type, bufferSlot, byteOffset, length] = node;
    if (typeof type !== "string" || !VIEW_TYPES.has(type)) {
      throw malformed(`unknown view type ${JSON.stringify(type)}`);
    }
    const View = (globalThis as Record<string, unknown>)[type];
    if (typeof View !== "function") {
      throw new TypeError(`${type} is not supported by this runtime`);
    }
    const buffer = this.#resolveNow(bufferSlot) as ArrayBuffer;
    return new (View as ViewConstructor)(
      buffer,
      byteOffset as number,
      length as number,
    );
  }

  #makeError(props: Record<string, unknown>): Error {
    const name = this.#resolveNow(props.name);
    const hasMessage = Object.hasOwn(props, "message");
    const message = hasMessage ? this.#resolveNow(props.message) : undefined;
    let error: Error;
    if (name === "AggregateError") {
      error = hasMessage
        ? new AggregateError([], message as string)
        : new AggregateError([]);
    } else if (OWN_ERROR_CLASSES.has(name as string)) {
      // Its prototype, without running its constructor: the fields come
      // from the node.
      const Class = OWN_ERROR_CLASSES.get(name as string)!;
      error = Reflect.construct(Error, [message], Class);
      defineHidden(error, "name", name);
    } else {
      const ErrorClass = ERROR_CLASSES.get(name as string);
      error = ErrorClass === undefined
        ? new Error(message as string)
        : new ErrorClass(message as string);
      if (ErrorClass === undefined) defineHidden(error, "name", name);
    }
    if (Object.hasOwn(props, "stack")) {
      defineHidden(error, "stack", this.#resolveNow(props.stack));
    }
    return error;
  }

  #fill(i: number): void {
    const node = this.#wire[i];
    const value = this.#values[i];
    if (!Array.isArray(node)) {
      const o = node as Record<string, unknown>;
      for (const key of Object.keys(o)) {
        setOwn(value as object, key, this.#resolve(o[key]));
      }
      return;
    }
    switch (node[0]) {
      case "A": {
        const a = value as unknown[];
        for (let k = 1; k < node.length; k++) a.push(this.#resolve(node[k]));
        return;
      }
      case "H": {
        const a = value as unknown[];
        for (let k = 2; k < node.length; k += 2) {
          a[node[k]] = this.#resolve(node[k + 1]);
        }
        return;
      }
      case "M": {
        const m = value as Map<unknown, unknown>;
        for (let k = 1; k < node.length; k += 2) {
          m.set(this.#resolve(node[k]), this.#resolve(node[k + 1]));
        }
        return;
      }
      case "S": {
        const s = value as Set<unknown>;
        for (let k = 1; k < node.length; k++) s.add(this.#resolve(node[k]));
        return;
      }
      case "E":
        this.#fillError(value as Error, node[1]);
        return;
    }
  }

  #fillError(error: Error, props: Record<string, unknown>): void {
    if (Object.hasOwn(props, "cause")) {
      defineHidden(error, "cause", this.#resolve(props.cause));
    }
    if (Object.hasOwn(props, "errors")) {
      const errors = this.#resolve(props.errors);
      if (error instanceof AggregateError) {
        defineHidden(error, "errors", errors);
      } else (error as unknown as Record<string, unknown>).errors = errors;
    }
    for (const key of Object.keys(props)) {
      if (!ERROR_KEYS.has(key)) setOwn(error, key, this.#resolve(props[key]));
    }
  }
}

/** Defines a non-enumerable own property, as the Error constructors do for
 * `message`, `cause` and `errors`. */
function defineHidden(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}

function malformed(what: string): TypeError {
  return new TypeError(`malformed codec wire: ${what}`);
}
