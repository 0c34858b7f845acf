import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import {
  DataCloneError,
  decode,
  encode,
  sectionsOf,
} from "../workers/_codec.ts";

/** What the other process gets: encode, through JSON text and a copy of
 * each byte section (as a frame carries them), decode. */
function roundTrip<T>(value: T): T {
  const wire = encode(value, "value");
  const sections = sectionsOf(wire).map((bytes) => bytes.slice().buffer);
  return decode(JSON.parse(JSON.stringify(wire)), sections) as T;
}

/** The DataCloneError message that encoding `value` raises. */
function cloneError(value: unknown, where = "argument 1"): string {
  try {
    encode(value, where);
  } catch (error) {
    assert.ok(error instanceof DataCloneError);
    return error.message;
  }
  assert.fail("encode() did not throw");
}

// ---------------------------------------------------------------------------
// The plain fast path

test("encode() returns plain JSON data itself, not a copy", () => {
  const values = [
    { a: 1, b: "x", c: [true, null, { d: [1.5, -2] }] },
    [1, "two", [3], { four: 4 }],
    Object.assign(Object.create(null), { nullProto: true }),
    [],
    {},
    "text",
    42,
    0,
    false,
    null,
  ];
  for (const value of values) assert.equal(encode(value, "value"), value);
});

test("decode() returns plain JSON data itself", () => {
  const wire = JSON.parse('{"a":[1,{"b":null}],"$codec2":1}');
  assert.equal(decode(wire), wire);
  const list = JSON.parse('[{"$codec":1}]');
  assert.equal(decode(list), list);
});

test("encode() sends a plain object that has the marker key as a graph", () => {
  const value = { $codec: [1, 2], other: "x" };
  const wire = encode(value, "value");
  assert.notEqual(wire, value);
  assert.deepEqual(roundTrip(value), value);
});

test("encode() sends non-JSON values nested in plain data as a graph", () => {
  const nonPlain = [
    { a: undefined },
    [1, undefined],
    [1, , 3], // a hole
    { n: NaN },
    { n: -0 },
    { n: Infinity },
    { d: new Date(0) },
    { b: 1n },
  ];
  for (const value of nonPlain) {
    assert.notEqual(encode(value, "value"), value);
    assert.deepEqual(roundTrip(value), value);
  }
});

test("encode() writes the documented graph format", () => {
  const shared = { x: 1 };
  assert.deepEqual(encode([shared, shared, new Date(0), -0], "value"), {
    $codec: [[1], ["A", [2], [2], [3], [-5]], { x: 1 }, ["D", 0]],
  });
  assert.deepEqual(encode(undefined, "value"), { $codec: [[-1]] });
  assert.deepEqual(encode([1, , 3], "value"), {
    $codec: [[1], ["H", 3, 0, 1, 2, 3]],
  });
});

// ---------------------------------------------------------------------------
// Primitives

test("decode(encode()) keeps undefined, null and booleans", () => {
  for (const value of [undefined, null, true, false]) {
    assert.equal(roundTrip(value), value);
  }
});

test("decode(encode()) keeps every number, NaN, ±Infinity and -0 included", () => {
  const numbers = [
    0,
    -0,
    1,
    -1,
    1.5,
    NaN,
    Infinity,
    -Infinity,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER,
    -Number.EPSILON,
  ];
  for (const n of numbers) assert.ok(Object.is(roundTrip(n), n), String(n));
  assert.ok(Object.is(roundTrip([-0])[0], -0));
  assert.ok(Object.is(roundTrip({ z: -0 }).z, -0));
});

test("decode(encode()) keeps strings: empty, multibyte, lone surrogates", () => {
  const strings = [
    "",
    "plain",
    "é中𝄞🎉",
    '\u0000\n\t"\\',
    "\ud800",
    "a\udc00b",
    "\udbff\udfff",
  ];
  for (const s of strings) assert.equal(roundTrip(s), s);
  assert.deepEqual(roundTrip({ s: "\ud800", u: undefined }), {
    s: "\ud800",
    u: undefined,
  });
});

test("decode(encode()) keeps bigints", () => {
  const bigints = [0n, 1n, -1n, 2n ** 64n, -(10n ** 40n) - 7n];
  for (const n of bigints) assert.equal(roundTrip(n), n);
  assert.deepEqual(roundTrip({ n: 5n, list: [5n, -5n] }), {
    n: 5n,
    list: [5n, -5n],
  });
});

test("decode(encode()) keeps boxed primitives", () => {
  const boxed = roundTrip([Object(1), Object("s"), Object(true), Object(3n)]);
  assert.ok(boxed[0] instanceof Number);
  assert.equal(boxed[0].valueOf(), 1);
  assert.ok(boxed[1] instanceof String);
  assert.equal(boxed[1].valueOf(), "s");
  assert.ok(boxed[2] instanceof Boolean);
  assert.equal(boxed[2].valueOf(), true);
  assert.equal(typeof boxed[3], "object");
  assert.equal(boxed[3].valueOf(), 3n);
});

// ---------------------------------------------------------------------------
// Objects and arrays

test("decode(encode()) keeps objects with undefined values", () => {
  const value = { a: undefined, b: { c: undefined } };
  const copy = roundTrip(value);
  assert.deepEqual(copy, value);
  assert.ok("a" in copy && "c" in copy.b);
});

test("decode(encode()) gives null-prototype objects Object.prototype", () => {
  const value = Object.assign(Object.create(null), { d: new Date(1) });
  const copy = roundTrip(value);
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
  assert.deepEqual(copy.d, new Date(1));
});

test("decode(encode()) turns class instances into plain objects", () => {
  class Point {
    x = 1;
    #secret = 2;
    y: undefined = undefined;
    get sum(): number {
      return this.x + this.#secret;
    }
    method(): number {
      return this.x;
    }
  }
  const copy = roundTrip(new Point());
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
  assert.deepEqual(Object.keys(copy), ["x", "y"]);
  assert.deepEqual(copy, { x: 1, y: undefined });
});

test("decode(encode()) keeps an own __proto__ key as data", () => {
  const value = JSON.parse('{"__proto__":{"polluted":true},"d":null}');
  value.u = undefined; // force the graph path
  const copy = roundTrip(value) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
  assert.ok(Object.hasOwn(copy, "__proto__"));
  assert.deepEqual(copy["__proto__"], { polluted: true });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test("decode(encode()) keeps holes in sparse arrays, and their length", () => {
  const sparse = [1, , 3, ,];
  const copy = roundTrip(sparse);
  assert.equal(copy.length, 4);
  assert.deepEqual(Object.keys(copy), ["0", "2"]);
  assert.ok(!(1 in copy) && !(3 in copy));

  const dense = [undefined, undefined];
  assert.deepEqual(Object.keys(roundTrip(dense)), ["0", "1"]);
});

test("decode(encode()) sends a huge sparse array in small space", () => {
  const huge: unknown[] = [];
  huge[5] = "five";
  huge[4_000_000_000] = "far";
  const json = JSON.stringify(encode(huge, "value"));
  assert.ok(json.length < 100, json);
  const copy = decode(JSON.parse(json)) as unknown[];
  assert.equal(copy.length, 4_000_000_001);
  assert.equal(copy[5], "five");
  assert.equal(copy[4_000_000_000], "far");
  assert.deepEqual(Object.keys(copy), ["5", "4000000000"]);
});

test("decode(encode()) keeps Date, invalid Date and RegExp", () => {
  const value = [
    new Date(Date.UTC(2024, 1, 29, 12)),
    new Date(-8.64e15),
    new Date(NaN),
    /a+b?/gimsuy,
    /[/\\]"'/,
  ];
  const copy = roundTrip(value);
  assert.ok(copy[0] instanceof Date);
  assert.equal(copy[0].getTime(), value[0].valueOf());
  assert.equal(copy[1].valueOf(), -8.64e15);
  assert.ok(copy[2] instanceof Date && Number.isNaN(copy[2].getTime()));
  assert.ok(copy[3] instanceof RegExp);
  assert.equal(String(copy[3]), "/a+b?/gimsuy");
  assert.equal((copy[4] as RegExp).source, (value[4] as RegExp).source);
});

test("decode(encode()) keeps Maps and Sets, with object keys", () => {
  const key = { k: 1 };
  const map = new Map<unknown, unknown>([
    [key, "object key"],
    ["s", undefined],
    [NaN, -0],
    [2n, new Set([1, key])],
  ]);
  const copy = roundTrip({ map, key });
  assert.deepEqual(copy.map, map);
  const keys = [...copy.map.keys()];
  assert.equal(keys[0], copy.key);
  assert.ok(Object.is(copy.map.get(NaN), -0));
  assert.ok((copy.map.get(2n) as Set<unknown>).has(copy.key));
});

// ---------------------------------------------------------------------------
// Binary data

const TYPED_ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  ...("Float16Array" in globalThis
    ? [
      (globalThis as unknown as { Float16Array: typeof Float32Array })
        .Float16Array,
    ]
    : []),
];

test("decode(encode()) keeps every typed array type and its contents", () => {
  for (const View of TYPED_ARRAYS) {
    const big = View === BigInt64Array || View === BigUint64Array;
    const view = new (View as typeof Float64Array)(5);
    for (let i = 0; i < view.length; i++) {
      (view as unknown as unknown[])[i] = big ? BigInt(i * 3) : i * 3 - 1;
    }
    const copy = roundTrip(view);
    assert.equal(copy.constructor, View, View.name);
    assert.deepEqual(copy, view, View.name);
  }
});

test("decode(encode()) keeps ArrayBuffers, empty and resizable ones", () => {
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 255);
  const copy = roundTrip(bytes.buffer);
  assert.ok(copy instanceof ArrayBuffer);
  assert.deepEqual(new Uint8Array(copy), bytes);
  assert.equal(roundTrip(new ArrayBuffer(0)).byteLength, 0);

  const resizable = new ArrayBuffer(4, { maxByteLength: 64 });
  new Uint8Array(resizable).set([1, 2, 3, 4]);
  const grown = roundTrip(resizable);
  assert.ok(grown.resizable);
  assert.equal(grown.maxByteLength, 64);
  assert.deepEqual(new Uint8Array(grown), new Uint8Array([1, 2, 3, 4]));
});

test("decode(encode()) keeps views over one buffer on one buffer", () => {
  const buffer = new ArrayBuffer(32);
  const whole = new Uint8Array(buffer);
  whole.forEach((_, i) => (whole[i] = i));
  const value = {
    part: new Uint16Array(buffer, 8, 4),
    view: new DataView(buffer, 3, 10),
    whole,
  };
  const copy = roundTrip(value);
  assert.ok(copy.view instanceof DataView);
  assert.equal(copy.part.buffer, copy.whole.buffer);
  assert.equal(copy.view.buffer, copy.whole.buffer);
  assert.equal(copy.part.byteOffset, 8);
  assert.equal(copy.part.length, 4);
  assert.equal(copy.view.byteOffset, 3);
  assert.equal(copy.view.byteLength, 10);
  assert.equal(copy.view.getUint8(0), 3);
  assert.deepEqual(copy.part, value.part);
  copy.whole[8] = 0xff;
  assert.equal(copy.view.getUint8(5), 0xff);
});

test("encode() lists each buffer's bytes once, as a view, not in the JSON", () => {
  const buffer = new ArrayBuffer(16);
  const other = new Uint8Array([1, 2, 3]);
  const value = [new Float64Array(buffer), new DataView(buffer, 4), other];
  const wire = encode(value, "value");
  const sections = sectionsOf(wire);
  assert.equal(sections.length, 2);
  assert.equal(sections[0].buffer, buffer);
  assert.equal(sections[0].length, 16);
  assert.equal(sections[1].buffer, other.buffer);
  assert.ok(!JSON.stringify(wire).includes("AQID")); // no base64 either
  assert.equal(sectionsOf(encode({ plain: [1] }, "value")).length, 0);
  assert.equal(sectionsOf(encode(new Date(0), "value")).length, 0);
});

test("decode() gives each section's buffer to its ArrayBuffer, uncopied", () => {
  const wire = JSON.parse(JSON.stringify(encode(new Uint8Array(8), "value")));
  const section = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]).buffer;
  const bytes = decode(wire, [section]) as Uint8Array;
  assert.equal(bytes.buffer, section);
  assert.deepEqual([...bytes], [9, 8, 7, 6, 5, 4, 3, 2]);
});

test("decode() rejects a graph whose byte section did not come", () => {
  const wire = JSON.parse(JSON.stringify(encode(new Uint8Array(8), "value")));
  assert.throws(() => decode(wire), /missing section 0/);
  for (const section of [1, -1, 0.5, "0", null]) {
    assert.throws(
      () => decode({ $codec: [[1], ["B", section]] }, [new ArrayBuffer(1)]),
      TypeError,
    );
  }
});

// ---------------------------------------------------------------------------
// Errors

test("decode(encode()) rebuilds built-in error classes", () => {
  const errors = [
    new Error("e"),
    new TypeError("t"),
    new RangeError("r"),
    new SyntaxError("s"),
    new ReferenceError("re"),
    new EvalError("ev"),
    new URIError("u"),
  ];
  for (const error of errors) {
    const copy = roundTrip(error);
    assert.equal(copy.constructor, error.constructor);
    assert.ok(copy instanceof Error);
    assert.equal(copy.name, error.name);
    assert.equal(copy.message, error.message);
    assert.equal(copy.stack, error.stack);
    assert.ok(!Object.keys(copy).includes("stack"));
  }
});

test("decode(encode()) keeps an error's cause, props and missing message", () => {
  const cause = new RangeError("inner");
  const error = Object.assign(new TypeError("outer", { cause }), {
    code: "E_BAD",
    detail: { at: new Date(0), n: -0 },
  });
  const copy = roundTrip({ error, again: error });
  assert.equal(copy.error, copy.again);
  assert.ok(copy.error instanceof TypeError);
  assert.ok(copy.error.cause instanceof RangeError);
  assert.equal((copy.error.cause as Error).message, "inner");
  assert.equal(copy.error.code, "E_BAD");
  assert.ok(Object.is(copy.error.detail.n, -0));
  assert.deepEqual(Object.keys(copy.error), ["code", "detail"]);

  const bare = roundTrip(new Error());
  assert.ok(!Object.hasOwn(bare, "message"));
  assert.ok(!Object.hasOwn(bare, "cause"));
  assert.ok(
    Object.hasOwn(roundTrip(new Error("x", { cause: undefined })), "cause"),
  );
});

test("decode(encode()) gives other error names to an Error with that name", () => {
  class ValidationError extends Error {
    override name = "ValidationError";
    field = "email";
  }
  const copy = roundTrip(new ValidationError("bad email"));
  assert.equal(copy.constructor, Error);
  assert.equal(copy.name, "ValidationError");
  assert.equal(copy.message, "bad email");
  assert.equal(copy.field, "email");
  assert.match(copy.stack!, /bad email/);

  const named = new Error("x");
  named.name = "CustomName";
  assert.equal(roundTrip(named).name, "CustomName");
  assert.equal(String(roundTrip(named)), "CustomName: x");
});

test("decode(encode()) rebuilds AggregateError with its errors", () => {
  const inner = new TypeError("one");
  const error = new AggregateError([inner, "two", inner], "many");
  const copy = roundTrip(error);
  assert.ok(copy instanceof AggregateError);
  assert.equal(copy.message, "many");
  assert.equal(copy.errors.length, 3);
  assert.ok(copy.errors[0] instanceof TypeError);
  assert.equal(copy.errors[0], copy.errors[2]);
  assert.equal(copy.errors[1], "two");
  assert.ok(!Object.keys(copy).includes("errors"));
});

test("decode(encode()) keeps the remote stack string", () => {
  const error = new Error("boom");
  error.stack = "Error: boom\n    at remote (file:///worker.ts:1:1)";
  assert.equal(roundTrip(error).stack, error.stack);
});

// ---------------------------------------------------------------------------
// Identity: shared and cyclic references

test("decode(encode()) keeps shared references shared", () => {
  const shared = { n: 1 };
  const list = [1, 2];
  const copy = roundTrip({ a: shared, b: shared, c: [list, list] });
  assert.equal(copy.a, copy.b);
  assert.equal(copy.c[0], copy.c[1]);
  assert.deepEqual(copy.a, shared);
});

test("decode(encode()) keeps cycles through objects, arrays, maps and sets", () => {
  const node: Record<string, unknown> = { name: "root" };
  const list: unknown[] = [node];
  const map = new Map<unknown, unknown>();
  const set = new Set<unknown>();
  node.self = node;
  node.list = list;
  list.push(list, map);
  map.set(map, set);
  set.add(set).add(node);

  const copy = roundTrip(node) as typeof node;
  assert.equal(copy.self, copy);
  const l = copy.list as unknown[];
  assert.equal(l[0], copy);
  assert.equal(l[1], l);
  const m = l[2] as Map<unknown, unknown>;
  const s = m.get(m) as Set<unknown>;
  assert.ok(s.has(s) && s.has(copy));
});

test("decode(encode()) keeps values nested deeper than the call stack", () => {
  let list: { next: unknown } | null = null;
  for (let i = 0; i < 100_000; i++) list = { next: list };
  let copy = roundTrip({ list, u: undefined }).list as typeof list;
  let depth = 0;
  while (copy !== null) {
    depth++;
    copy = copy.next as typeof list;
  }
  assert.equal(depth, 100_000);
});

// ---------------------------------------------------------------------------
// What cannot be sent

test("encode() names the path to a function it cannot send", () => {
  const value = { items: [0, 1, 2, { cb: () => 1 }] };
  assert.equal(
    cloneError(value),
    "argument 1 → .items[3].cb: function cannot be sent",
  );
});

test("encode() names the root when the value itself cannot be sent", () => {
  assert.equal(cloneError(Symbol("s")), "argument 1: symbol cannot be sent");
  assert.equal(
    cloneError(() => 1, "result"),
    "result: function cannot be sent",
  );
  assert.equal(cloneError(new WeakMap()), "argument 1: WeakMap cannot be sent");
});

test("encode() quotes keys that are not identifiers", () => {
  assert.equal(
    cloneError({ "weird key": { $ok: [{ "": Symbol() }] } }),
    'argument 1 → ["weird key"].$ok[0][""]: symbol cannot be sent',
  );
});

test("encode() names map keys, map values and set members", () => {
  const fn = () => 1;
  assert.equal(
    cloneError({ m: new Map([["k", fn]]) }),
    'argument 1 → .m.get("k"): function cannot be sent',
  );
  assert.equal(
    cloneError(new Map<unknown, unknown>([[1, 1], [2n, fn]])),
    "argument 1 → .get(2n): function cannot be sent",
  );
  assert.equal(
    cloneError(new Map<unknown, unknown>([[1, 1], [{}, fn]])),
    "argument 1 → .values()[1]: function cannot be sent",
  );
  assert.equal(
    cloneError(new Map<unknown, unknown>([[1, 1], [fn, 2]])),
    "argument 1 → .keys()[1]: function cannot be sent",
  );
  assert.equal(
    cloneError(new Set([1, new WeakSet()])),
    "argument 1 → .values()[1]: WeakSet cannot be sent",
  );
});

test("encode() refuses promises, weak refs, streams and other built-ins", () => {
  const cases: [unknown, string][] = [
    [Promise.resolve(1), "Promise"],
    [new WeakRef({}), "WeakRef"],
    [new ReadableStream(), "ReadableStream"],
    [new URL("https://example.com"), "URL"],
    [new SharedArrayBuffer(8), "SharedArrayBuffer"],
    [Object(Symbol("boxed")), "Symbol"],
    [(function* () {})(), "Generator"],
  ];
  for (const [value, what] of cases) {
    assert.equal(
      cloneError({ x: [value] }, "argument 2"),
      `argument 2 → .x[0]: ${what} cannot be sent`,
    );
  }
});

test("encode() refuses a detached buffer and a view of a shared one", () => {
  const detached = new ArrayBuffer(8);
  structuredClone(detached, { transfer: [detached] });
  assert.equal(
    cloneError({ b: detached }),
    "argument 1 → .b: detached ArrayBuffer cannot be sent",
  );
  assert.equal(
    cloneError([new Int32Array(new SharedArrayBuffer(8))]),
    "argument 1 → [0].buffer: SharedArrayBuffer cannot be sent",
  );
});

test("encode() finds functions in error properties and causes", () => {
  const error = new Error("x", { cause: { retry: () => 1 } });
  assert.equal(
    cloneError({ error }),
    "argument 1 → .error.cause.retry: function cannot be sent",
  );
});

test("DataCloneError is an Error named DataCloneError", () => {
  const error = new DataCloneError("m", { cause: 1 });
  assert.ok(error instanceof Error);
  assert.equal(error.name, "DataCloneError");
  assert.equal(error.message, "m");
  assert.equal(error.cause, 1);
  assert.equal(String(error), "DataCloneError: m");
});

test("decode() rejects malformed graphs with a TypeError", () => {
  const bad = [
    { $codec: [] },
    { $codec: "x" },
    { $codec: [[7]] },
    { $codec: [[1], ["?"]] },
    { $codec: [[1], 5] },
    { $codec: [[1], ["V", "Function", [1], 0, 0]] },
  ];
  for (const wire of bad) assert.throws(() => decode(wire), TypeError);
});
