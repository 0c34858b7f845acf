/**
 * The worker side of W6 (`w6_bulk.ts`): the echo, and the peak memory of
 * the process it runs in.
 *
 * @module
 */
import { readFileSync } from "node:fs";

/** Returns its argument: W6 times the round trip of the bytes alone. */
export function echo<T>(value: T): T {
  return value;
}

/**
 * This process's resident memory now and at its peak, in bytes, from
 * Linux's `/proc/self/status`; `undefined` where there is no such file.
 */
export function residentBytes(): { now: number; peak: number } | undefined {
  let status: string;
  try {
    status = readFileSync("/proc/self/status", "utf8");
  } catch {
    return undefined;
  }
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]) *
    1024;
  return { now: kib("VmRSS"), peak: kib("VmHWM") };
}
