/**
 * What the messages of both pools share, whatever carries them (frames over
 * stdio, Web Worker messages): how a function is named, and the steps of a
 * worker's init.
 *
 * Types only: nothing of it is loaded at run time.
 *
 * @module
 */

/** A function the worker can call: export `e` of module URL `m`, or source
 * function number `k`, whose source `src` is sent the first time a worker
 * needs it and is compiled once there. */
export type FnRef =
  | { m: string; e: string }
  | { k: number; src?: string };

/** The step of a worker's init that failed: importing the pool's
 * `modules`, or running its `initializer`. */
export type InitStage = "modules" | "initializer";
