/**
 * The wire protocol between a process pool and its workers: messages, and
 * the framing that carries them over a byte stream (stdin/stdout).
 *
 * Each frame is a 4-byte big-endian unsigned length N, then N bytes of
 * payload, in one of two forms told apart by the first byte:
 *
 * - `{`: UTF-8 JSON holding one message, which is always a JSON object;
 * - `0x00`: a message with byte sections (the bytes of the ArrayBuffers its
 *   values hold, see the codec): the byte 0, a 4-byte big-endian count C,
 *   C 4-byte big-endian section lengths, the message's JSON (its length is
 *   what the others leave of N), then the sections' raw bytes, in order.
 *
 * That a payload begins with one of these is checked as soon as its first
 * byte arrives, so that stray output on the stream is caught even when its
 * first bytes read as a length within the limit (a line feed, a tab).
 *
 * A worker's frames also begin with a mark: 8 bytes the pool draws at random
 * for that worker, before the length. Whatever else its stdout carries (a
 * task that writes there, a library that prints) is not a frame: the
 * reader passes it on as output and finds the next frame by its mark.
 *
 * Frames queued in one turn of the event loop are batched into one write
 * ({@linkcode FrameWriter}); a reader cuts whatever chunks arrive back into
 * messages ({@linkcode FrameReader}).
 *
 * Pure functions over values and `Uint8Array`s: no I/O, no runtime APIs.
 *
 * @module
 */

import { rebuildAs } from "./_codec.ts";
import type { FnRef, InitStage } from "./_messages.ts";

// ---------------------------------------------------------------------------
// Messages. Field `t` is the kind, `id` the numeric call id; values marked
// "wire" are what the codec's encode() returned, and the codec's decode()
// takes them back with the message's `sections`.

/** What the reader adds to a message that came with byte sections: each
 * section in an ArrayBuffer of its own. Absent for a message without. */
export interface Sections {
  sections?: ArrayBuffer[];
}

/** A message from the pool to a worker. */
export type ParentMessage =
  & Sections
  & (
    /** Sent first: import `modules`, run `init(...args)` (`args` is the wire
     * of an array), then answer `ready` or `init-failed`. */
    | {
      t: "init";
      modules: string[];
      init?: FnRef;
      args?: unknown;
      maxFrameBytes: number;
      /** The mark that begins each of the worker's frames, in hex; see
       * `newMark()`. */
      mark: string;
    }
    /** Call `fn(...args)`; `args` is the wire of an array. */
    | { t: "call"; id: number; fn: FnRef; args: unknown }
    /** Nothing to do: sent to a worker on another machine every few
     * seconds, so that it knows the link lives (see `_watchdog.ts`). */
    | { t: "ping" }
    /** Call `fn` once per item; `args` is the wire of the items' arguments by
     * column: one array per parameter (at least one), all as long as the
     * batch, so that `fn(args[0][i], args[1][i])` is item `i`. The answer is
     * one `ok` whose value is the wire of `[values]` when every item returned,
     * else of `[values, failures]`: `failures` lists `index, error` pairs
     * (flat), and `values[index]` of a failed item is `null`. Each item keeps
     * its outcome; no item costs an array of its own. */
    | { t: "batch"; id: number; fn: FnRef; args: unknown }
  );

/** A message from a worker to the pool. */
export type WorkerMessage =
  & Sections
  & (
    /** Init is done: modules imported, initializer ran; `cores` is the
     * worker's machine's core count. */
    | { t: "ready"; cores?: number }
    /** Init threw; `error` is its wire, `stage` what threw. */
    | {
      t: "init-failed";
      error: unknown;
      stage: InitStage;
      /** The module that could not be imported, at stage "modules". */
      module?: string;
    }
    /** Call `id` returned; `value` is its wire. */
    | { t: "ok"; id: number; value: unknown }
    /** Call `id` threw; `error` is its wire. */
    | { t: "err"; id: number; error: unknown }
    /** After the answers of one write: how long, in ms, the worker was
     * busy on them. */
    | { t: "busy"; ms: number }
  );

// ---------------------------------------------------------------------------
// Framing.

/** The largest frame payload accepted by default: 256 MiB. Large enough for
 * any sane argument or result, small enough that a corrupt length prefix
 * (text written to stdout reads as 0x20000000 bytes or more) is caught at
 * once instead of being waited for. */
export const DEFAULT_MAX_FRAME_BYTES: number = 256 * 1024 * 1024;

/** What a 4-byte length prefix can express. */
const MAX_LIMIT = 0xffff_ffff;
const HEADER_BYTES = 4;
/** The length of a worker's frame mark. */
export const MARK_BYTES = 8;
/** The first byte of a JSON payload: "{". */
const OPEN_BRACE = 0x7b;
/** The first byte of a payload with byte sections. */
const BINARY_MARK = 0x00;
/** The mark and the section count that begin a payload with sections. */
const BINARY_HEAD_BYTES = 5;
/** Sections smaller than this are copied into the frame; larger ones go to
 * the pipe as they are. */
const COPY_BELOW_BYTES = 64 * 1024;
/** How many bytes of a bad frame its error message shows. */
const PREVIEW_BYTES = 64;
/** The size of a writer's buffers; one grows beyond it only for a batch
 * that does not fit. */
const BUFFER_BYTES = 64 * 1024;
/** JSON texts shorter than this are encoded by a JavaScript loop: below it,
 * the fixed cost of a TextEncoder.encodeInto call dominates. */
const SHORT_TEXT = 128;

/**
 * The arguments or the result of a call of a process pool would make a
 * frame larger than the pool's `maxFrameBytes` (its JSON, and the bytes of
 * binary data it holds). It fails that call's future only; the pool goes
 * on.
 *
 * @example
 * ```ts
 * import { FrameTooLargeError, ProcessPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new ProcessPoolExecutor({ maxFrameBytes: 1024 });
 * const call = pool.submit((s: string) => s.length, "x".repeat(4096));
 * const error = await call.exception();
 * console.assert(error instanceof FrameTooLargeError && error.limit === 1024);
 * ```
 */
export class FrameTooLargeError extends Error {
  /** The size of the message's payload, in bytes. */
  readonly bytes: number;
  /** The limit it exceeds, in bytes. */
  readonly limit: number;

  /**
   * Makes the error; `name` is `"FrameTooLargeError"`.
   *
   * @param bytes The size of the payload.
   * @param limit The limit it exceeds.
   * @param what What the frame would have carried: `"the arguments"`,
   * `"the result"`.
   * @param options `cause`.
   */
  constructor(
    bytes: number,
    limit: number,
    what = "a message",
    options?: ErrorOptions,
  ) {
    super(
      `the frame of ${what} is ${bytes} bytes, over maxFrameBytes (${limit} bytes)`,
      options,
    );
    this.name = "FrameTooLargeError";
    this.bytes = bytes;
    this.limit = limit;
  }
}

// A worker's own FrameTooLargeError (a result too large) is rebuilt as one.
rebuildAs("FrameTooLargeError", FrameTooLargeError);

/** Thrown by {@linkcode FrameReader.push} for bytes that are not a valid
 * frame; the stream cannot be trusted after it. */
export class ProtocolError extends Error {
  /** The messages of the complete, valid frames that preceded the bad bytes
   * in the same chunk, in order, so that their calls can still be settled. */
  readonly messages: readonly unknown[];

  /** Makes the error; `name` is `"ProtocolError"`. */
  constructor(
    message?: string,
    options?: ErrorOptions & { messages?: readonly unknown[] },
  ) {
    super(message, options);
    this.name = "ProtocolError";
    this.messages = options?.messages ?? [];
  }
}

const utf8Encoder = new TextEncoder();
// ignoreBOM: a leading BOM stays and fails JSON.parse; writers never send
// one. The lossy decoder is the fast path (a fatal TextDecoder costs three
// times as much per call on Deno); its output holds U+FFFD only if the bytes
// were invalid or held U+FFFD themselves, and the fatal one tells which.
const lossyDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const strictDecoder = new TextDecoder("utf-8", {
  fatal: true,
  ignoreBOM: true,
});

const EMPTY = new Uint8Array(0);
const NO_SECTIONS: readonly Uint8Array[] = Object.freeze([]);

/** Accumulates the frames queued in one turn so that they go out in one
 * write.
 *
 * Frames are appended to a buffer, and {@linkcode FrameWriter.take} hands out
 * a view of the bytes written since the last take, without copying: the
 * writer never writes into bytes it handed out, and starts a new buffer when
 * the current one is full (the old one lives on while views of it do). On
 * Deno, allocating even a small `Uint8Array` costs more than a whole frame's
 * encoding, so neither take nor add allocates in the common case.
 *
 * Large byte sections are not copied into the buffer: take hands them out
 * as they are, each in its turn between the frame bytes around it, so that
 * a large array costs no copy and no memory on its way to the pipe. */
export class FrameWriter {
  readonly #limit: number;
  /** What begins every frame, if anything; see the module documentation. */
  readonly #mark: Uint8Array;
  #buffer: Uint8Array = EMPTY;
  #view: DataView = new DataView(EMPTY.buffer);
  /** Where the bytes not yet taken begin. */
  #start = 0;
  /** Where the next frame goes. */
  #end = 0;
  /** What comes before the bytes from `#start`: the frame bytes up to each
   * section, and the sections, in order. */
  #ahead: Uint8Array[] = [];
  #aheadBytes = 0;

  /**
   * Makes an empty writer.
   *
   * @param maxFrameBytes The largest payload of one frame, in bytes.
   * @param mark What begins every frame: a worker's mark, `MARK_BYTES`
   * long; none by default.
   * @throws {RangeError} When `maxFrameBytes` is not an integer from 1 to
   * 4294967295.
   */
  constructor(
    maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES,
    mark: Uint8Array = EMPTY,
  ) {
    this.#limit = checkLimit(maxFrameBytes);
    this.#mark = mark;
  }

  /** The number of bytes waiting to be taken. */
  get size(): number {
    return this.#aheadBytes + this.#end - this.#start;
  }

  /**
   * Serialises one message with `JSON.stringify` and appends its frame.
   *
   * @param message The message: an object `JSON.stringify` accepts.
   * @param sections Byte sections to send with it (the codec's
   * `sectionsOf()`); those of 64 KiB or more are not copied, and must not
   * change until taken and written.
   * @param what What the message carries, for the error when it is too
   * large: `"the arguments"`, `"the result"`.
   * @returns The frame's length in bytes, its mark and 4-byte prefix
   * included.
   * @throws {FrameTooLargeError} When the payload exceeds `maxFrameBytes`;
   * the waiting bytes are unchanged.
   * @throws {TypeError} When `message` is not an object in JSON (`[]`,
   * `undefined`, a string) or `JSON.stringify` rejects it (a bigint, a
   * cycle).
   */
  add(
    message: unknown,
    sections: readonly Uint8Array[] = NO_SECTIONS,
    what?: string,
  ): number {
    const json: string | undefined = JSON.stringify(message);
    if (json === undefined || json.charCodeAt(0) !== OPEN_BRACE) {
      throw new TypeError("a message must be a JSON object");
    }
    return sections.length === 0
      ? this.#addJson(json, what)
      : this.#addBinary(json, sections, what);
  }

  #addJson(json: string, what: string | undefined): number {
    // Every UTF-16 unit takes at least one byte: no need to encode to know.
    if (json.length > this.#limit) {
      throw new FrameTooLargeError(utf8Length(json), this.#limit, what);
    }
    // First, room for one byte per unit: what all-ASCII text needs.
    const head = this.#mark.length + HEADER_BYTES;
    this.#reserve(head + json.length, 0);
    let at = this.#end + head;
    let read = 0;
    if (json.length < SHORT_TEXT) {
      const buffer = this.#buffer;
      for (; read < json.length; read++) {
        const c = json.charCodeAt(read);
        if (c >= 0x80) break;
        buffer[at++] = c;
      }
    }
    if (read < json.length) {
      const rest = read === 0 ? json : json.slice(read);
      let done = utf8Encoder.encodeInto(rest, this.#buffer.subarray(at));
      at += done.written;
      if (done.read < rest.length) {
        // Out of room: make room for the worst case of what is left, three
        // bytes per unit, so that this second pass always finishes.
        const left = rest.slice(done.read);
        const written = at - this.#end;
        this.#reserve(written + 3 * left.length, written);
        at = this.#end + written; // the buffer may have changed
        done = utf8Encoder.encodeInto(left, this.#buffer.subarray(at));
        at += done.written;
      }
    }
    const bytes = at - this.#end - head;
    if (bytes > this.#limit) {
      throw new FrameTooLargeError(bytes, this.#limit, what);
    }
    this.#buffer.set(this.#mark, this.#end);
    this.#view.setUint32(this.#end + head - HEADER_BYTES, bytes); // big-endian
    const length = at - this.#end;
    this.#end = at;
    return length;
  }

  /** Frames that carry sections are rare: their JSON is measured first, so
   * that the frame is written in one pass. Small sections are copied into
   * the buffer, so that a thousand small arrays cost no thousand parts. */
  #addBinary(
    json: string,
    sections: readonly Uint8Array[],
    what: string | undefined,
  ): number {
    const head = BINARY_HEAD_BYTES + 4 * sections.length + utf8Length(json);
    let bytes = head;
    let copied = 0;
    for (const section of sections) {
      bytes += section.length;
      if (section.length < COPY_BELOW_BYTES) copied += section.length;
    }
    if (bytes > this.#limit) {
      throw new FrameTooLargeError(bytes, this.#limit, what);
    }
    const mark = this.#mark;
    this.#reserve(mark.length + HEADER_BYTES + head + copied, 0);
    const buffer = this.#buffer;
    const view = this.#view;
    let at = this.#end;
    buffer.set(mark, at);
    at += mark.length;
    view.setUint32(at, bytes);
    buffer[at + HEADER_BYTES] = BINARY_MARK;
    view.setUint32(at + HEADER_BYTES + 1, sections.length);
    at += HEADER_BYTES + BINARY_HEAD_BYTES;
    for (const section of sections) {
      view.setUint32(at, section.length);
      at += 4;
    }
    at += utf8Encoder.encodeInto(json, buffer.subarray(at)).written;
    for (const section of sections) {
      if (section.length < COPY_BELOW_BYTES) {
        buffer.set(section, at);
        at += section.length;
      } else {
        // The bytes so far go first, then the section as it is.
        this.#putAhead(buffer.subarray(this.#start, at));
        this.#putAhead(section);
        this.#start = at;
      }
    }
    this.#end = at;
    return mark.length + HEADER_BYTES + bytes;
  }

  #putAhead(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#ahead.push(bytes);
    this.#aheadBytes += bytes.length;
  }

  /**
   * Takes the waiting bytes: all of them, or, when byte sections wait, the
   * next part; take while {@linkcode FrameWriter.size} is not 0 to empty the
   * writer.
   *
   * @returns The frames added since the last call, in order, in a view the
   * caller owns (the writer never writes into it again): fit to hand to
   * `write()`.
   */
  take(): Uint8Array {
    if (this.#ahead.length > 0) {
      const part = this.#ahead.shift()!;
      this.#aheadBytes -= part.length;
      return part;
    }
    const bytes = this.#buffer.subarray(this.#start, this.#end);
    this.#start = this.#end;
    // A buffer grown for a huge batch is not kept for the small ones.
    if (this.#buffer.length > BUFFER_BYTES) this.#replace(EMPTY, 0);
    return bytes;
  }

  /** Ensures room for `bytes` more from the end, keeping what is not taken
   * and the first `written` bytes of the frame being written there. */
  #reserve(bytes: number, written: number): void {
    if (this.#end + bytes <= this.#buffer.length) return;
    const waiting = this.#end - this.#start;
    const needed = waiting + bytes;
    // The usual size when that fits, else exactly what the batch needs (a
    // huge frame must not cost twice its size), or double if that is more.
    const capacity = needed <= BUFFER_BYTES
      ? BUFFER_BYTES
      : Math.max(needed, 2 * this.#buffer.length);
    this.#replace(new Uint8Array(capacity), waiting + written);
  }

  /** Moves the first `keep` bytes not yet taken to `buffer`. */
  #replace(buffer: Uint8Array, keep: number): void {
    if (keep > 0) {
      buffer.set(this.#buffer.subarray(this.#start, this.#start + keep));
    }
    this.#end -= this.#start;
    this.#start = 0;
    this.#buffer = buffer;
    this.#view = new DataView(buffer.buffer);
  }
}

/** Cuts a byte stream into messages. Whole JSON frames are parsed straight
 * from the chunk they arrive in; a frame split across chunks, and every byte
 * section, is copied once, into a buffer of its exact size.
 *
 * A reader made with a mark reads a worker's stdout: every frame begins with
 * the mark, and the bytes between frames are the worker's own output,
 * handed to `onOutput` in order. */
export class FrameReader {
  readonly #limit: number;
  readonly #mark: Uint8Array;
  readonly #onOutput: (bytes: Uint8Array) => void;
  /** The bytes before a payload: the mark and the length prefix. */
  readonly #headBytes: number;
  /** The head of the frame being read, while it is split across chunks. */
  readonly #head: Uint8Array;
  /** How many bytes of the head came, while fewer than all. */
  #headFill = 0;
  /** The payload of a split frame, once its length is known. */
  #frame: PartialFrame | undefined;
  #failure: ProtocolError | undefined;

  /**
   * Makes a reader that has seen nothing yet.
   *
   * @param maxFrameBytes The largest payload of one frame, in bytes.
   * @param mark What begins every frame, `MARK_BYTES` long, and the first
   * byte of which it holds once only; none by default.
   * @param onOutput Takes the bytes between frames, with a mark; the reader
   * keeps no reference to them.
   * @throws {RangeError} When `maxFrameBytes` is not an integer from 1 to
   * 4294967295.
   */
  constructor(
    maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES,
    mark: Uint8Array = EMPTY,
    onOutput: (bytes: Uint8Array) => void = () => {},
  ) {
    this.#limit = checkLimit(maxFrameBytes);
    this.#mark = mark;
    this.#onOutput = onOutput;
    this.#headBytes = mark.length + HEADER_BYTES;
    this.#head = new Uint8Array(this.#headBytes);
  }

  /** The number of bytes of an incomplete frame held back. */
  get buffered(): number {
    return this.#frame === undefined
      ? this.#headFill
      : this.#headBytes + this.#frame.received;
  }

  /**
   * Appends a chunk of the stream.
   *
   * @param chunk The next bytes; the reader does not keep a reference.
   * @returns Every message completed by this chunk, `JSON.parse`d, in order;
   * one that came with byte sections has them in `sections`.
   * @throws {ProtocolError} When a length prefix is 0 or exceeds
   * `maxFrameBytes`, or a payload is neither UTF-8 JSON nor a valid payload
   * with sections; the message shows the bytes seen (as text where
   * printable), so that stray output is recognisable. Every later call
   * throws too.
   */
  push(chunk: Uint8Array): unknown[] {
    if (this.#failure !== undefined) {
      throw new ProtocolError(
        "the stream is unusable after an earlier protocol error",
        { cause: this.#failure },
      );
    }
    const messages: unknown[] = [];
    try {
      this.#read(chunk, messages);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#failure = new ProtocolError(error.message, { messages });
      throw this.#failure;
    }
    return messages;
  }

  /** The stream ended: a reader with a mark hands on the output it held
   * back (the start of what might have been a mark). */
  end(): void {
    if (this.#mark.length === 0 || this.#frame !== undefined) return;
    if (this.#headFill > 0) this.#onOutput(this.#head.slice(0, this.#headFill));
    this.#headFill = 0;
  }

  #read(chunk: Uint8Array, messages: unknown[]): void {
    const end = chunk.length;
    const headBytes = this.#headBytes;
    let at = 0;
    // First finish the frame an earlier chunk began.
    if (this.#headFill > 0) {
      while (this.#headFill < headBytes && at < end) {
        this.#head[this.#headFill++] = chunk[at++];
      }
      if (this.#headFill < headBytes) return;
      this.#headFill = 0;
      if (!this.#markAt(this.#head, 0)) {
        // Output that began like a mark: read it again, with the rest.
        const again = new Uint8Array(headBytes + end - at);
        again.set(this.#head);
        again.set(chunk.subarray(at), headBytes);
        return this.#read(again, messages);
      }
      const length = readLength(this.#head, headBytes - HEADER_BYTES);
      if (length === 0 || length > this.#limit) {
        this.#reject(length, this.#splitFrame(chunk, at));
      }
      this.#frame = new PartialFrame(length);
    }
    if (this.#frame !== undefined) {
      const frame = this.#frame;
      if (frame.received === 0 && at < end && !isPayloadStart(chunk[at])) {
        throw notFrame(this.#splitFrame(chunk, at));
      }
      at = frame.fill(chunk, at, end);
      if (!frame.done) return;
      this.#frame = undefined;
      messages.push(frame.message);
    }
    // Then every whole frame: JSON straight from the chunk.
    while (end - at >= headBytes) {
      if (!this.#markAt(chunk, at)) {
        at = this.#output(chunk, at + 1, end);
        continue;
      }
      const length = readLength(chunk, at + headBytes - HEADER_BYTES);
      const body = at + headBytes;
      const next = body + length;
      if (length === 0 || length > this.#limit) {
        this.#reject(length, chunk.subarray(at));
      }
      if (next <= end && chunk[body] === OPEN_BRACE) {
        messages.push(parse(chunk.subarray(body, next)));
        at = next;
        continue;
      }
      // A frame with sections, one that the next chunk will finish, or
      // bytes that are no frame.
      if (body < end && !isPayloadStart(chunk[body])) {
        throw notFrame(chunk.subarray(at));
      }
      this.#head.set(chunk.subarray(at, body)); // for errors
      const frame = new PartialFrame(length);
      at = frame.fill(chunk, body, end);
      if (!frame.done) {
        this.#frame = frame;
        return;
      }
      messages.push(frame.message);
    }
    // Output up to what might begin a mark, then keep that start: fewer
    // bytes than a head, usually none. A loop beats set() and subarray().
    if (this.#mark.length > 0) {
      while (at < end && !this.#markStartAt(chunk, at, end)) {
        at = this.#output(chunk, at + 1, end);
      }
    }
    while (at < end) this.#head[this.#headFill++] = chunk[at++];
  }

  /** Whether the bytes from `at` to `end`, fewer than a head, are the
   * mark's first ones, which the next chunk may complete. */
  #markStartAt(bytes: Uint8Array, at: number, end: number): boolean {
    const mark = this.#mark;
    const count = Math.min(mark.length, end - at);
    for (let i = 0; i < count; i++) {
      if (bytes[at + i] !== mark[i]) return false;
    }
    return true;
  }

  /** Whether `bytes` hold the mark at `at` (always, without a mark). */
  #markAt(bytes: Uint8Array, at: number): boolean {
    const mark = this.#mark;
    for (let i = 0; i < mark.length; i++) {
      if (bytes[at + i] !== mark[i]) return false;
    }
    return true;
  }

  /**
   * Hands on as output the bytes before the next place a mark may begin,
   * from `from - 1` (which is no mark): the next byte equal to the mark's
   * first, which appears in it only there.
   *
   * @returns Where the next frame may begin.
   * @throws {ProtocolError} Without a mark: such bytes are no frame.
   */
  #output(chunk: Uint8Array, from: number, end: number): number {
    if (this.#mark.length === 0) throw notFrame(chunk.subarray(from - 1));
    const next = chunk.indexOf(this.#mark[0], from);
    const stop = next < 0 ? end : next;
    this.#onOutput(chunk.slice(from - 1, stop));
    return stop;
  }

  /** Throws for a length prefix out of bounds; `seen` are the bytes of the
   * frame, for the message. */
  #reject(length: number, seen: Uint8Array): never {
    const why = length === 0
      ? "is 0"
      : `exceeds maxFrameBytes (${this.#limit})`;
    throw new ProtocolError(
      `not a frame: length prefix ${length} ${why}; bytes seen: ${
        preview(seen)
      }`,
    );
  }

  /** The start of a frame whose head came in an earlier chunk, for an
   * error message. */
  #splitFrame(chunk: Uint8Array, at: number): Uint8Array {
    const rest = chunk.subarray(at, at + PREVIEW_BYTES);
    const bytes = new Uint8Array(this.#headBytes + rest.length);
    bytes.set(this.#head);
    bytes.set(rest, this.#headBytes);
    return bytes;
  }
}

/** The first byte of every mark: no UTF-8 text holds it. */
const MARK_START = 0xff;

/**
 * A new frame mark for one worker: the byte 0xFF, then `MARK_BYTES - 1`
 * random others. 0xFF appears in it once only, so that a reader that finds
 * output where a frame should begin knows that no mark begins inside what
 * it skipped; and never in UTF-8 text, so that a worker's text output is
 * never held back as the possible start of a frame.
 *
 * @returns The mark.
 */
export function newMark(): Uint8Array {
  const mark = new Uint8Array(MARK_BYTES);
  do crypto.getRandomValues(mark); while (mark.indexOf(MARK_START, 1) >= 0);
  mark[0] = MARK_START;
  return mark;
}

// The parts of a payload, in the order they come: a JSON payload is one
// part; one with sections has its head, section lengths, JSON and sections.
const JSON_PART = 0;
const HEAD_PART = 1;
const LENGTHS_PART = 2;
const SECTION_JSON_PART = 3;
const SECTION_PART = 4;
const DONE = 5;
type Part =
  | typeof JSON_PART
  | typeof HEAD_PART
  | typeof LENGTHS_PART
  | typeof SECTION_JSON_PART
  | typeof SECTION_PART
  | typeof DONE;

/**
 * The payload of one frame, filled as its bytes come, each byte copied once:
 * JSON into one buffer of its size; a payload with sections part by part
 * (its head, its section lengths, its JSON, then each section straight into
 * an ArrayBuffer of its own), so that a large section costs its size once.
 */
class PartialFrame {
  /** How many bytes of the payload came. */
  received = 0;
  /** The message, once {@linkcode PartialFrame.done}. */
  message: unknown;
  readonly #length: number;
  #part: Part | undefined;
  #bytes: Uint8Array = EMPTY;
  #filled = 0;
  #lengths: number[] = [];
  #json: Uint8Array = EMPTY;
  readonly #sections: ArrayBuffer[] = [];

  constructor(length: number) {
    this.#length = length;
  }

  get done(): boolean {
    return this.#part === DONE;
  }

  /** Takes bytes from `chunk[at]` up to `end`, the first of which the
   * reader checked; returns where it stopped: `end`, or the end of the
   * frame. */
  fill(chunk: Uint8Array, at: number, end: number): number {
    if (this.#part === undefined) {
      if (at === end) return at;
      if (chunk[at] === OPEN_BRACE) this.#expect(JSON_PART, this.#length);
      else this.#expect(HEAD_PART, Math.min(BINARY_HEAD_BYTES, this.#length));
    }
    while (this.#part !== DONE) {
      const n = Math.min(this.#bytes.length - this.#filled, end - at);
      this.#bytes.set(chunk.subarray(at, at + n), this.#filled);
      this.#filled += n;
      this.received += n;
      at += n;
      if (this.#filled < this.#bytes.length) break;
      this.#next();
    }
    return at;
  }

  #expect(part: Part, bytes: number): void {
    this.#part = part;
    this.#bytes = new Uint8Array(bytes);
    this.#filled = 0;
  }

  /** Moves on from a part that is full. */
  #next(): void {
    const bytes = this.#bytes;
    switch (this.#part) {
      case JSON_PART:
        this.message = parse(bytes);
        this.#part = DONE;
        return;
      case HEAD_PART: {
        const count = bytes.length < BINARY_HEAD_BYTES
          ? -1
          : readLength(bytes, 1);
        if (count < 0 || BINARY_HEAD_BYTES + 4 * count > this.#length) {
          throw this.#malformed(`its head does not fit`);
        }
        return this.#expect(LENGTHS_PART, 4 * count);
      }
      case LENGTHS_PART: {
        let json = this.#length - BINARY_HEAD_BYTES - bytes.length;
        for (let at = 0; at < bytes.length; at += 4) {
          const length = readLength(bytes, at);
          this.#lengths.push(length);
          json -= length;
        }
        if (json < 2) {
          throw this.#malformed("its section lengths leave no room for JSON");
        }
        return this.#expect(SECTION_JSON_PART, json);
      }
      case SECTION_JSON_PART:
        if (bytes[0] !== OPEN_BRACE) {
          throw this.#malformed(`its JSON does not begin with "{"`);
        }
        this.#json = bytes;
        return this.#nextSection();
      case SECTION_PART:
        this.#sections.push(bytes.buffer as ArrayBuffer);
        return this.#nextSection();
    }
  }

  #nextSection(): void {
    const i = this.#sections.length;
    if (i < this.#lengths.length) {
      return this.#expect(SECTION_PART, this.#lengths[i]);
    }
    const message = parse(this.#json) as Sections;
    message.sections = this.#sections;
    this.message = message;
    this.#part = DONE;
  }

  #malformed(what: string): ProtocolError {
    return new ProtocolError(
      `frame of ${this.#length} bytes with sections is malformed: ${what}`,
    );
  }
}

function isPayloadStart(byte: number): boolean {
  return byte === OPEN_BRACE || byte === BINARY_MARK;
}

function notFrame(frame: Uint8Array): ProtocolError {
  return new ProtocolError(
    `not a frame: the payload begins with neither "{" nor 0x00; bytes seen: ${
      preview(frame)
    }`,
  );
}

function parse(payload: Uint8Array): unknown {
  const text = lossyDecoder.decode(payload);
  if (text.includes("\ufffd")) {
    try {
      strictDecoder.decode(payload);
    } catch {
      throw new ProtocolError(
        `frame of ${payload.length} bytes is not valid UTF-8: ` +
          preview(payload),
      );
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(
      `frame of ${payload.length} bytes is not valid JSON ` +
        `(${(error as Error).message}): ${preview(payload)}`,
    );
  }
}

function readLength(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) |
    bytes[at + 3]) >>> 0;
}

/** The first bytes as a quoted string, so that stray text reads as text:
 * `hello world\n` shows as "hello world\n"; control characters come out
 * escaped, bytes that are not UTF-8 as U+FFFD. */
function preview(bytes: Uint8Array): string {
  const shown = JSON.stringify(
    lossyDecoder.decode(bytes.subarray(0, PREVIEW_BYTES)),
  );
  return bytes.length > PREVIEW_BYTES ? `${shown}…` : shown;
}

/**
 * Checks a frame limit: the `maxFrameBytes` option, a writer's, a reader's.
 *
 * @param maxFrameBytes The limit, in bytes.
 * @returns The limit.
 * @throws {TypeError} When it is not a number.
 * @throws {RangeError} When it is not an integer from 1 to 4294967295.
 */
export function checkLimit(maxFrameBytes: unknown): number {
  if (typeof maxFrameBytes !== "number") {
    throw new TypeError(
      `maxFrameBytes must be a number of bytes, got ${typeof maxFrameBytes}`,
    );
  }
  if (
    !Number.isInteger(maxFrameBytes) || maxFrameBytes < 1 ||
    maxFrameBytes > MAX_LIMIT
  ) {
    throw new RangeError(
      `maxFrameBytes must be an integer from 1 to ${MAX_LIMIT}, got ${maxFrameBytes}`,
    );
  }
  return maxFrameBytes;
}

/** The UTF-8 size of a well-formed string such as JSON.stringify returns,
 * for the error message when it is too large to encode. */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    // A surrogate comes in a pair (JSON.stringify escapes lone ones): two
    // units, four bytes.
    bytes += c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 1 : 2;
  }
  return bytes;
}
