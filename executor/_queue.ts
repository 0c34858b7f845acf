/**
 * A FIFO queue with O(1) `push` and `shift`, for work waiting on a worker.
 *
 * `Array.prototype.shift` is O(n) in the worst case; a moving head index is
 * O(1), and the array is compacted once half of it is consumed.
 *
 * @module
 */

/** A first-in, first-out queue. */
export class Queue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** How many items wait. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Appends an item at the back. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** Puts items back at the front, in their order. */
  unshift(items: readonly T[]): void {
    if (items.length === 0) return;
    this.#items = [...items, ...this.#items.slice(this.#head)];
    this.#head = 0;
  }

  /** The front item, left in place, or `undefined` when empty. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** Removes and returns the front item, or `undefined` when empty. */
  shift(): T | undefined {
    const items = this.#items;
    if (this.#head === items.length) return undefined;
    const item = items[this.#head];
    items[this.#head++] = undefined;
    if (this.#head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= items.length) {
      items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** The sum of `measure(item)` over the waiting items: O(n), for reports
   * rather than the hot path. */
  sum(measure: (item: T) => number): number {
    let total = 0;
    for (let i = this.#head; i < this.#items.length; i++) {
      total += measure(this.#items[i] as T);
    }
    return total;
  }

  /** Removes and returns every item, front first. */
  takeAll(): T[] {
    const rest = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}
