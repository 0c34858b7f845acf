/**
 * The calls sent to one worker and not yet answered, oldest first, with
 * when each was sent: a worker answers in the order it was sent its calls.
 *
 * @module
 */
import type { EngineItem } from "./_worker_transport.ts";

/** How many answered entries may pile up at the front before they are
 * dropped: a worker that is never idle never empties its list. */
const COMPACT_AT = 1024;

/** A worker's calls in flight; see the module documentation. */
export class InFlight<I extends EngineItem> {
  readonly #ids: number[] = [];
  readonly #items: I[] = [];
  readonly #sentAt: number[] = [];
  #head = 0;

  /** How many calls are in flight. */
  get size(): number {
    return this.#ids.length - this.#head;
  }

  /** The id of the oldest call in flight, the one answered next. */
  get oldestId(): number | undefined {
    return this.#ids[this.#head];
  }

  /** The oldest call in flight. */
  get oldest(): I | undefined {
    return this.size === 0 ? undefined : this.#items[this.#head];
  }

  /** When the oldest call in flight was sent. */
  get oldestSentAt(): number | undefined {
    return this.#sentAt[this.#head];
  }

  /** Appends a call sent at `now`. */
  push(id: number, item: I, now: number): void {
    this.#ids.push(id);
    this.#items.push(item);
    this.#sentAt.push(now);
  }

  /** Removes the oldest call in flight and returns it. */
  shift(): I {
    const at = this.#head++;
    const item = this.#items[at];
    this.#items[at] = undefined as unknown as I; // let it be collected
    if (this.#head === this.#ids.length) this.#forget(this.#head);
    else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#ids.length) {
      this.#forget(this.#head);
    }
    return item;
  }

  /** Removes call `id`, wherever it is; returns it, if it was there. */
  remove(id: number): I | undefined {
    const at = this.#ids.indexOf(id, this.#head);
    if (at < 0) return undefined;
    const item = this.#items[at];
    this.#ids.splice(at, 1);
    this.#items.splice(at, 1);
    this.#sentAt.splice(at, 1);
    return item;
  }

  /** Removes every call in flight and returns them, oldest first. */
  takeAll(): I[] {
    const rest = this.#items.slice(this.#head);
    this.#forget(this.#ids.length);
    return rest;
  }

  /** How many calls the items in flight hold (a batch counts its items). */
  calls(): number {
    let calls = 0;
    for (let i = this.#head; i < this.#items.length; i++) {
      calls += this.#items[i].calls;
    }
    return calls;
  }

  /** Drops the first `count` entries, all of them answered or taken. */
  #forget(count: number): void {
    if (count === this.#ids.length) {
      this.#ids.length = this.#items.length = this.#sentAt.length = 0;
    } else {
      this.#ids.splice(0, count);
      this.#items.splice(0, count);
      this.#sentAt.splice(0, count);
    }
    this.#head -= Math.min(this.#head, count);
  }
}
