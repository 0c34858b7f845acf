import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameReader,
  FrameTooLargeError,
  FrameWriter,
  MARK_BYTES,
  newMark,
  ProtocolError,
} from "../workers/_protocol.ts";
import type { ParentMessage, WorkerMessage } from "../workers/_protocol.ts";
import { decode, encode, sectionsOf } from "../workers/_codec.ts";

const text = new TextEncoder();

/** One frame made by hand: 4-byte big-endian length, then the bytes. */
function frame(payload: string | Uint8Array): Uint8Array {
  const bytes = typeof payload === "string" ? text.encode(payload) : payload;
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The ProtocolError that pushing `chunks` raises. */
function protocolError(reader: FrameReader, ...chunks: Uint8Array[]) {
  try {
    for (const chunk of chunks) reader.push(chunk);
  } catch (error) {
    assert.ok(error instanceof ProtocolError);
    return error;
  }
  assert.fail("push() did not throw");
}

const MESSAGES: (ParentMessage | WorkerMessage)[] = [
  {
    t: "init",
    modules: ["file:///m.ts"],
    maxFrameBytes: 1024,
    mark: "0102030405060708",
  },
  { t: "call", id: 1, fn: { m: "file:///m.ts", e: "add" }, args: [1, 2] },
  { t: "batch", id: 2, fn: { k: 0, src: "(x) => x * 2" }, args: [[1], [2]] },
  { t: "ready" },
  { t: "ok", id: 1, value: "é中𝄞 \ud800 lone" },
  { t: "err", id: 2, error: { $codec: [[1], ["E", { name: "Error" }]] } },
];

// ---------------------------------------------------------------------------
// FrameWriter

test("FrameWriter.add() writes a 4-byte big-endian length and UTF-8 JSON", () => {
  const writer = new FrameWriter();
  const message = { t: "ok", id: 7, value: "é" };
  const length = writer.add(message);
  const json = JSON.stringify(message);
  const bytes = text.encode(json);
  assert.equal(length, 4 + bytes.length);
  assert.equal(writer.size, length);
  assert.deepEqual(writer.take(), frame(json));
  assert.equal(writer.size, 0);
});

test("FrameWriter.take() returns every frame added since the last take", () => {
  const writer = new FrameWriter();
  let total = 0;
  for (const message of MESSAGES) total += writer.add(message);
  const bytes = writer.take();
  assert.equal(bytes.length, total);
  assert.deepEqual(
    bytes,
    concat(...MESSAGES.map((m) => frame(JSON.stringify(m)))),
  );
  assert.deepEqual(writer.take(), new Uint8Array(0));
});

test("FrameWriter.take() hands out bytes that later adds never touch", () => {
  const writer = new FrameWriter();
  writer.add({ t: "ready" });
  const first = writer.take();
  const copy = first.slice();
  writer.add({ t: "ok", id: 1, value: "x".repeat(100) });
  assert.deepEqual(first, copy);

  writer.add({ t: "ok", id: 2, value: "y".repeat(100_000) }); // handed over
  const big = writer.take();
  const bigCopy = big.slice();
  writer.add({ t: "ok", id: 3, value: "z".repeat(100_000) });
  assert.deepEqual(big, bigCopy);
  assert.deepEqual(new FrameReader().push(writer.take()), [
    { t: "ok", id: 3, value: "z".repeat(100_000) },
  ]);
});

test("FrameWriter.take() views stay intact as the writer moves on", () => {
  // ~1 MB of small batches: the writer starts many new buffers meanwhile.
  const writer = new FrameWriter();
  const taken: Uint8Array[] = [];
  const copies: Uint8Array[] = [];
  for (let i = 0; i < 3000; i++) {
    writer.add({ t: "ok", id: i, value: "v".repeat(i % 500) });
    if (i % 3 === 2) {
      const bytes = writer.take();
      taken.push(bytes);
      copies.push(bytes.slice());
    }
  }
  assert.deepEqual(taken, copies);
  const reader = new FrameReader();
  const ids = taken.flatMap((bytes) => reader.push(bytes))
    .map((message) => (message as { id: number }).id);
  assert.deepEqual(ids, Array.from({ length: 3000 }, (_, i) => i));
});

test("FrameWriter.add() grows its buffer for large and multibyte messages", () => {
  const writer = new FrameWriter();
  const messages = [
    { t: "ok", id: 1, value: "a".repeat(70_000) },
    { t: "ok", id: 2, value: "é".repeat(200_000) }, // 2 bytes per unit
    { t: "ok", id: 3, value: "𝄞".repeat(100_000) }, // 4 bytes per 2 units
    { t: "ok", id: 4, value: "中".repeat(300_000) }, // 3 bytes per unit
  ];
  for (const message of messages) writer.add(message);
  assert.deepEqual(new FrameReader().push(writer.take()), messages);
});

test("FrameWriter.add() finishes when a character straddles the buffer end", () => {
  // 4 + 6 + 65524 = 65534 bytes come before "中", which needs 3 of the
  // 65536 the first buffer has.
  const writer = new FrameWriter();
  const message = { v: "a".repeat(65_524) + "中" };
  writer.add(message);
  assert.deepEqual(new FrameReader().push(writer.take()), [message]);
});

test("FrameWriter.add() escapes lone surrogates instead of corrupting them", () => {
  const writer = new FrameWriter();
  const message = { t: "ok", id: 1, value: "a\ud800b\udfffc" };
  writer.add(message);
  const [back] = new FrameReader().push(writer.take());
  assert.deepEqual(back, message);
});

test("FrameWriter.add() throws FrameTooLargeError and keeps what it had", () => {
  const writer = new FrameWriter(64);
  writer.add({ t: "ready" });
  const before = writer.size;
  const big = { t: "ok", id: 1, value: "x".repeat(100) };
  assert.throws(() => writer.add(big), (error: unknown) => {
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.name, "FrameTooLargeError");
    assert.equal(error.bytes, JSON.stringify(big).length);
    assert.equal(error.limit, 64);
    assert.match(error.message, /over maxFrameBytes \(64 bytes\)/);
    return true;
  });
  assert.equal(writer.size, before);
  assert.deepEqual(new FrameReader().push(writer.take()), [{ t: "ready" }]);
});

test("FrameWriter.add() counts the limit in UTF-8 bytes, not UTF-16 units", () => {
  const message = { v: "é".repeat(30) }; // 38 units, 68 bytes of JSON
  const json = JSON.stringify(message);
  const bytes = text.encode(json).length;
  const writer = new FrameWriter(bytes - 1);
  writer.add({ fits: true });
  assert.throws(
    () => writer.add(message),
    (error: unknown) =>
      error instanceof FrameTooLargeError && error.bytes === bytes,
  );
  assert.deepEqual(new FrameReader().push(writer.take()), [{ fits: true }]);
  assert.equal(new FrameWriter(bytes).add(message), 4 + bytes);

  // Too long even in units: the size is counted without encoding.
  const pairs = { v: "𝄞".repeat(40) };
  assert.throws(
    () => new FrameWriter(50).add(pairs),
    (error: unknown) =>
      error instanceof FrameTooLargeError &&
      error.bytes === text.encode(JSON.stringify(pairs)).length,
  );
});

test("FrameWriter.add() keeps what it had when it grew, then found it too large", () => {
  const writer = new FrameWriter(100_000);
  writer.add({ t: "ready" });
  const big = { v: "é".repeat(60_000) }; // 60,008 units, 120,008 bytes
  assert.throws(
    () => writer.add(big),
    (error: unknown) =>
      error instanceof FrameTooLargeError && error.bytes === 120_008,
  );
  writer.add({ t: "ok", id: 1, value: 2 });
  assert.deepEqual(new FrameReader().push(writer.take()), [
    { t: "ready" },
    { t: "ok", id: 1, value: 2 },
  ]);
});

test("FrameWriter.add() rejects what is not a JSON object", () => {
  const writer = new FrameWriter();
  for (const bad of [undefined, null, 5, "s", [1], () => 1]) {
    assert.throws(() => writer.add(bad), {
      name: "TypeError",
      message: "a message must be a JSON object",
    });
  }
  assert.throws(() => writer.add({ n: 1n }), TypeError);
  assert.equal(writer.size, 0);
});

test("FrameWriter() and FrameReader() reject a bad maxFrameBytes", () => {
  for (const bad of [0, -1, 1.5, NaN, 2 ** 32, Infinity]) {
    assert.throws(() => new FrameWriter(bad), RangeError);
    assert.throws(() => new FrameReader(bad), RangeError);
  }
  assert.equal(DEFAULT_MAX_FRAME_BYTES, 256 * 1024 * 1024);
  new FrameWriter(2 ** 32 - 1);
  new FrameReader(1);
});

// ---------------------------------------------------------------------------
// FrameReader

test("FrameReader.push() returns the message of one whole frame", () => {
  const reader = new FrameReader();
  assert.deepEqual(reader.push(frame('{"t":"ready"}')), [{ t: "ready" }]);
  assert.equal(reader.buffered, 0);
});

test("FrameReader.push() returns several frames of one chunk in order", () => {
  const writer = new FrameWriter();
  for (const message of MESSAGES) writer.add(message);
  assert.deepEqual(new FrameReader().push(writer.take()), MESSAGES);
});

test("FrameReader.push() reassembles frames split at every byte boundary", () => {
  const writer = new FrameWriter();
  for (const message of MESSAGES) writer.add(message);
  const stream = writer.take();
  for (let cut = 0; cut <= stream.length; cut++) {
    const reader = new FrameReader();
    const got = [
      ...reader.push(stream.subarray(0, cut)),
      ...reader.push(stream.subarray(cut)),
    ];
    assert.deepEqual(got, MESSAGES, `cut at ${cut}`);
    assert.equal(reader.buffered, 0);
  }
});

test("FrameReader.push() reassembles a stream fed one byte at a time", () => {
  const writer = new FrameWriter();
  for (const message of MESSAGES) writer.add(message);
  const stream = writer.take();
  const reader = new FrameReader();
  const got: unknown[] = [];
  for (let i = 0; i < stream.length; i++) {
    got.push(...reader.push(stream.subarray(i, i + 1)));
  }
  assert.deepEqual(got, MESSAGES);
});

test("FrameReader.push() accepts chunks it does not keep", () => {
  const stream = concat(frame('{"a":1}'), frame('{"b":2}'));
  const chunk = stream.slice(0, 17); // frame 1 (11 bytes), part of frame 2
  const reader = new FrameReader();
  assert.deepEqual(reader.push(chunk), [{ a: 1 }]);
  chunk.fill(0); // a stdin reader may reuse its buffer
  assert.deepEqual(reader.push(stream.subarray(17)), [{ b: 2 }]);
});

test("FrameReader.buffered counts the bytes of an incomplete frame", () => {
  const stream = frame('{"t":"ready"}');
  const reader = new FrameReader();
  assert.equal(reader.buffered, 0);
  reader.push(stream.subarray(0, 2));
  assert.equal(reader.buffered, 2);
  reader.push(stream.subarray(2, 7));
  assert.equal(reader.buffered, 7);
  reader.push(stream.subarray(7, 16));
  assert.equal(reader.buffered, 16);
  assert.deepEqual(reader.push(stream.subarray(16)), [{ t: "ready" }]);
  assert.equal(reader.buffered, 0);
});

test("FrameReader.push() reads a large frame from many small chunks", () => {
  const message = { t: "ok", id: 1, value: "é".repeat(500_000) };
  const writer = new FrameWriter();
  writer.add(message);
  writer.add({ t: "ready" });
  const stream = writer.take();
  const reader = new FrameReader();
  const got: unknown[] = [];
  for (let at = 0; at < stream.length; at += 4093) {
    got.push(...reader.push(stream.subarray(at, at + 4093)));
  }
  assert.deepEqual(got, [message, { t: "ready" }]);
});

test("FrameReader.push() throws ProtocolError on text written to stdout", () => {
  const stray = text.encode("hello world\n");
  const error = protocolError(new FrameReader(), stray);
  assert.equal(error.name, "ProtocolError");
  assert.match(error.message, /length prefix 1751477356 exceeds maxFrameBytes/);
  assert.ok(error.message.includes('"hello world\\n"'), error.message);
});

test("FrameReader.push() shows stray text split before its 4th byte", () => {
  const error = protocolError(
    new FrameReader(),
    text.encode("he"),
    text.encode("llo world\n"),
  );
  assert.ok(error.message.includes('"hello world\\n"'), error.message);
});

test("FrameReader.push() throws ProtocolError on a length above its limit", () => {
  const reader = new FrameReader(10);
  assert.deepEqual(reader.push(frame('{"a":1}')), [{ a: 1 }]);
  const error = protocolError(reader, frame('{"long":"enough"}'));
  assert.match(error.message, /length prefix 17 exceeds maxFrameBytes \(10\)/);
});

test("FrameReader.push() throws ProtocolError on a payload that is not JSON", () => {
  const error = protocolError(new FrameReader(), frame("{hello}"));
  assert.match(error.message, /frame of 7 bytes is not valid JSON/);
  assert.ok(error.message.includes('"{hello}"'), error.message);
  protocolError(new FrameReader(), frame("")); // an empty payload
  protocolError(new FrameReader(), frame('{"a":1}{"b":2}'));
});

test("FrameReader.push() throws ProtocolError on a payload that is not an object", () => {
  for (const payload of ["[1]", '"s"', "5", "null", "\ufeff{}", "hello"]) {
    const error = protocolError(new FrameReader(), frame(payload));
    assert.match(
      error.message,
      /the payload begins with neither "\{" nor 0x00/,
    );
  }
});

test("FrameReader.push() catches stray text whose first bytes read as a fair length", () => {
  // "\tsta" reads as 158,561,377 bytes, within the limit: the payload's
  // first byte gives it away at once, where waiting for 150 MB would hang.
  const error = protocolError(new FrameReader(), text.encode("\tstatus: ok\n"));
  assert.ok(error.message.includes('"\\tstatus: ok\\n"'), error.message);

  // A stray line feed before a real frame.
  const shifted = concat(text.encode("\n"), frame('{"t":"ready"}'));
  protocolError(new FrameReader(), shifted);
});

test("FrameReader.push() checks a payload's first byte when it comes late", () => {
  const stream = frame("xy");
  const reader = new FrameReader();
  assert.deepEqual(reader.push(stream.subarray(0, 2)), []);
  assert.deepEqual(reader.push(stream.subarray(2, 4)), []);
  const error = protocolError(reader, stream.subarray(4));
  const seen = '"\\u0000\\u0000\\u0000\\u0002xy"';
  assert.ok(error.message.includes(seen), error.message);

  const again = new FrameReader();
  assert.deepEqual(again.push(stream.subarray(0, 4)), []);
  assert.ok(protocolError(again, stream.subarray(4)).message.includes(seen));
});

test("FrameReader.push() throws ProtocolError on a payload that is not UTF-8", () => {
  const bad = [
    [0xff], // never valid
    [0xc3], // truncated sequence
    [0xed, 0xa0, 0x80], // an encoded surrogate
    [0xc0, 0xaf], // overlong
  ];
  for (const bytes of bad) {
    // {"<bad>":0}
    const payload = [0x7b, 0x22, ...bytes, 0x22, 0x3a, 0x30, 0x7d];
    const error = protocolError(
      new FrameReader(),
      frame(new Uint8Array(payload)),
    );
    assert.match(error.message, /is not valid UTF-8/);
  }
  // U+FFFD itself is valid.
  assert.deepEqual(new FrameReader().push(frame('{"v":"\ufffd"}')), [
    { v: "\ufffd" },
  ]);
});

test("FrameReader.push() keeps the messages that came before bad bytes", () => {
  const reader = new FrameReader();
  const chunk = concat(
    frame('{"a":1}'),
    frame('{"b":2}'),
    text.encode("oops!"),
  );
  const error = protocolError(reader, chunk);
  assert.deepEqual(error.messages, [{ a: 1 }, { b: 2 }]);
});

test("FrameReader.push() keeps failing after a ProtocolError", () => {
  const reader = new FrameReader();
  const first = protocolError(reader, text.encode("hello world\n"));
  const again = protocolError(reader, frame('{"a":1}'));
  assert.equal(again.cause, first);
  assert.deepEqual(again.messages, []);
});

test("FrameWriter and FrameReader carry codec values end to end", () => {
  const shared = { n: 1 };
  const value = [
    shared,
    shared,
    new Date(5),
    -0,
    7n,
    "\ud800",
    new Map([[1, 2]]),
  ];
  const writer = new FrameWriter();
  writer.add({ t: "ok", id: 9, value: encode(value, "result") });
  const [message] = new FrameReader().push(writer.take()) as WorkerMessage[];
  assert.equal(message.t, "ok");
  const back = decode((message as { value: unknown }).value) as unknown[];
  assert.deepEqual(back, value);
  assert.equal(back[0], back[1]);
  assert.ok(Object.is(back[3], -0));
});

// ---------------------------------------------------------------------------
// Frames with byte sections

/** A frame with sections made by hand, as the module documentation lays it
 * out. */
function binaryFrame(json: string, sections: Uint8Array[]): Uint8Array {
  const head = new Uint8Array(5 + 4 * sections.length);
  const view = new DataView(head.buffer);
  view.setUint32(1, sections.length);
  sections.forEach((s, i) => view.setUint32(5 + 4 * i, s.length));
  return frame(concat(head, text.encode(json), ...sections));
}

/** Everything the writer holds, in one array. */
function takeAll(writer: FrameWriter): Uint8Array {
  const parts: Uint8Array[] = [];
  while (writer.size > 0) parts.push(writer.take());
  return concat(...parts);
}

const SECTIONS = [
  Uint8Array.from({ length: 300 }, (_, i) => i & 255),
  new Uint8Array(0),
  new Uint8Array([7]),
];

test("FrameWriter.add() writes sections raw after the JSON", () => {
  const writer = new FrameWriter();
  const length = writer.add({ t: "ok", id: 1, value: "é" }, SECTIONS);
  const bytes = takeAll(writer);
  assert.equal(length, bytes.length);
  assert.deepEqual(
    bytes,
    binaryFrame('{"t":"ok","id":1,"value":"é"}', SECTIONS),
  );
});

test("FrameWriter.take() hands large sections out uncopied, in their turn", () => {
  const writer = new FrameWriter();
  const small = new Uint8Array([1, 2, 3]);
  const large = new Uint8Array(64 * 1024).fill(4);
  writer.add({ t: "ready" });
  writer.add({ t: "ok", id: 1, value: 2 }, [small, large, new Uint8Array(0)]);
  writer.add({ t: "ready" }, [small]);
  small.fill(0); // copied: the frames keep what it held
  const parts: Uint8Array[] = [];
  while (writer.size > 0) parts.push(writer.take());
  assert.equal(parts.length, 3);
  assert.equal(parts[1], large);
  const messages = new FrameReader().push(concat(...parts)) as {
    sections?: ArrayBuffer[];
  }[];
  assert.deepEqual(
    messages.map((m) => m.sections?.map((s) => new Uint8Array(s).slice(0, 3))),
    [
      undefined,
      [new Uint8Array([1, 2, 3]), new Uint8Array([4, 4, 4]), new Uint8Array()],
      [new Uint8Array([1, 2, 3])],
    ],
  );
});

test("FrameReader.push() gives a frame's sections in ArrayBuffers of their own", () => {
  const writer = new FrameWriter();
  writer.add({ t: "ready" });
  writer.add({ t: "ok", id: 1, value: 2 }, SECTIONS);
  writer.add({ t: "ready" });
  const stream = takeAll(writer);
  const messages = new FrameReader().push(stream) as {
    sections?: ArrayBuffer[];
  }[];
  assert.equal(messages.length, 3);
  assert.equal(messages[0].sections, undefined);
  const { sections, ...message } = messages[1];
  assert.deepEqual(message, { t: "ok", id: 1, value: 2 });
  assert.deepEqual(sections?.map((s) => new Uint8Array(s)), SECTIONS);
  for (const section of sections ?? []) {
    assert.notEqual(section, stream.buffer);
  }
});

test("FrameReader.push() reassembles sections split at every byte boundary", () => {
  const writer = new FrameWriter();
  writer.add({ t: "ok", id: 1, value: 2 }, SECTIONS);
  writer.add({ t: "ready" }, [new Uint8Array([5, 6])]);
  writer.add({ t: "ready" });
  const stream = takeAll(writer);
  for (let cut = 0; cut <= stream.length; cut++) {
    const reader = new FrameReader();
    const got = [
      ...reader.push(stream.subarray(0, cut)),
      ...reader.push(stream.subarray(cut)),
    ] as { sections?: ArrayBuffer[] }[];
    assert.equal(got.length, 3, `cut at ${cut}`);
    assert.deepEqual(
      got.map((m) => m.sections?.map((s) => [...new Uint8Array(s)])),
      [SECTIONS.map((s) => [...s]), [[5, 6]], undefined],
      `cut at ${cut}`,
    );
    assert.equal(reader.buffered, 0);
  }
});

test("FrameReader.buffered counts the bytes of an incomplete section", () => {
  const writer = new FrameWriter();
  writer.add({ t: "ready" }, [new Uint8Array(1000)]);
  const stream = takeAll(writer);
  const reader = new FrameReader();
  assert.deepEqual(reader.push(stream.subarray(0, 500)), []);
  assert.equal(reader.buffered, 500);
  assert.equal(reader.push(stream.subarray(500)).length, 1);
  assert.equal(reader.buffered, 0);
});

test("FrameWriter.add() counts sections in the frame limit", () => {
  const writer = new FrameWriter(100);
  writer.add({ t: "ready" });
  assert.throws(
    () => writer.add({ t: "ready" }, [new Uint8Array(90)]),
    (error) =>
      error instanceof FrameTooLargeError && error.bytes === 5 + 4 + 13 + 90,
  );
  assert.equal(writer.size, 4 + 13); // the first frame only
  writer.add({ t: "ready" }, [new Uint8Array(78)]); // exactly 100
  assert.equal(writer.size, 4 + 13 + 4 + 100);
  assert.equal(takeAll(writer).length, 4 + 13 + 4 + 100);
});

test("FrameReader.push() throws ProtocolError on malformed frames with sections", () => {
  const bad = [
    frame(new Uint8Array([0, 0, 0])), // a head cut short
    frame(new Uint8Array([0, 0, 0, 0, 9])), // 9 lengths, none there
    binaryFrame("{}", [new Uint8Array(2)]).subarray(0, 4 + 5 + 4 + 2), // no JSON
    binaryFrame("[1]", [new Uint8Array(2)]),
    binaryFrame("{nope", [new Uint8Array(2)]),
  ];
  for (const bytes of bad) {
    // A prefix that says what is there (the third frame is cut short).
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    view.setUint32(0, bytes.length - 4);
    const error = protocolError(new FrameReader(), bytes);
    assert.match(error.message, /malformed|not valid JSON/, error.message);
  }
  const zero = protocolError(new FrameReader(), frame(""));
  assert.match(zero.message, /length prefix 0 is 0/);
});

test("FrameWriter and FrameReader carry typed arrays end to end", () => {
  const floats = Float64Array.from({ length: 1000 }, (_, i) => i / 7);
  const value = { floats, view: new DataView(floats.buffer, 8, 16) };
  const wire = encode(value, "result");
  const writer = new FrameWriter();
  writer.add({ t: "ok", id: 9, value: wire }, sectionsOf(wire));
  const [message] = new FrameReader().push(takeAll(writer)) as WorkerMessage[];
  const back = decode(
    (message as { value: unknown }).value,
    message.sections,
  ) as typeof value;
  assert.deepEqual(back.floats, floats);
  assert.equal(back.view.buffer, back.floats.buffer);
  assert.equal(back.view.getFloat64(0, true), 1 / 7);
});

// ---------------------------------------------------------------------------
// A worker's frames, behind its mark

/** A reader of marked frames, and the output it passed on. */
function markedReader(mark: Uint8Array) {
  const output: Uint8Array[] = [];
  const reader = new FrameReader(1024, mark, (bytes) => output.push(bytes));
  return {
    reader,
    output: () => new TextDecoder().decode(concat(...output)),
  };
}

/** Everything `writer` holds, in one array. */
function written(writer: FrameWriter): Uint8Array {
  const parts: Uint8Array[] = [];
  while (writer.size > 0) parts.push(writer.take());
  return concat(...parts);
}

test("newMark() draws a mark that begins with 0xFF, a byte no UTF-8 text holds, and holds it once", () => {
  const marks = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const mark = newMark();
    assert.equal(mark.length, MARK_BYTES);
    assert.equal(mark[0], 0xff);
    assert.equal(mark.indexOf(0xff, 1), -1);
    marks.add(mark.join());
  }
  assert.equal(marks.size, 200);
});

test("FrameReader with a mark holds back no text, and of other output only what the mark's first bytes are", () => {
  const mark = newMark();
  const { reader, output } = markedReader(mark);
  // Every byte value but 0xFF ends a line of text somewhere.
  for (let byte = 0; byte < 0xff; byte++) {
    reader.push(new Uint8Array([0x61, byte]));
    assert.equal(reader.buffered, 0, `byte ${byte}`);
  }
  assert.equal(output().length, 2 * 0xff);
  // The mark's first byte, then one that is neither its second nor its first
  // (0xFF could begin the mark again): output too.
  reader.push(new Uint8Array([0x61, 0xff, (mark[1] + 1) % 0xff]));
  assert.equal(reader.buffered, 0);
  // The mark's first three bytes: the next chunk may complete it.
  reader.push(mark.subarray(0, 3));
  assert.equal(reader.buffered, 3);
});

test("FrameReader with a mark passes on the bytes between frames as output, whatever they look like", () => {
  const mark = newMark();
  const writer = new FrameWriter(1024, mark);
  writer.add({ t: "ok", id: 1, value: 1 });
  const first = written(writer);
  writer.add({ t: "ok", id: 2, value: 2 });
  const second = written(writer);
  // Output that reads as a frame header, as a partial mark, as text.
  const stray = concat(
    new Uint8Array([0, 0, 1, 0, 123]),
    mark.subarray(0, 3),
    text.encode("hello\n"),
  );
  const { reader, output } = markedReader(mark);
  const stream = concat(text.encode("before "), first, stray, second);
  // Every way of cutting the stream in two gives the same.
  for (let cut = 0; cut <= stream.length; cut++) {
    const { reader, output } = markedReader(mark);
    const messages = [
      ...reader.push(stream.subarray(0, cut)),
      ...reader.push(stream.subarray(cut)),
    ];
    reader.end();
    assert.deepEqual(messages.map((m) => (m as { id: number }).id), [1, 2]);
    assert.equal(
      output(),
      "before " + new TextDecoder().decode(stray),
      `cut at ${cut}`,
    );
  }
  assert.deepEqual(reader.push(stream).length, 2);
  reader.end();
  assert.ok(output().startsWith("before \0\0\u0001\0{"));
});

test("FrameReader with a mark hands on at the end the output that began like a mark", () => {
  const mark = newMark();
  const { reader, output } = markedReader(mark);
  reader.push(concat(text.encode("tail "), mark.subarray(0, 5)));
  assert.equal(output(), "tail ");
  reader.end();
  assert.equal(
    output(),
    "tail " + new TextDecoder().decode(mark.subarray(0, 5)),
  );
});

test("FrameWriter with a mark begins every frame with it, sections too", () => {
  const mark = newMark();
  const writer = new FrameWriter(DEFAULT_MAX_FRAME_BYTES, mark);
  const big = new Uint8Array(100_000).fill(7);
  const value = encode(big, "result");
  writer.add({ t: "ok", id: 1, value }, sectionsOf(value));
  writer.add({ t: "ready" });
  const bytes = written(writer);
  assert.deepEqual(bytes.subarray(0, MARK_BYTES), mark);
  const reader = new FrameReader(DEFAULT_MAX_FRAME_BYTES, mark, () => {
    assert.fail("no output expected");
  });
  const [ok, ready] = reader.push(
    bytes,
  ) as (WorkerMessage & { value?: unknown })[];
  assert.deepEqual(decode(ok.value, ok.sections), big);
  assert.deepEqual(ready, { t: "ready" });
});
