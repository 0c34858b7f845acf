/**
 * The global scope of a worker thread under Node, which has none of a Web
 * Worker's (`postMessage`, `onmessage`, the `error`, `unhandledrejection`
 * and `messageerror` events, `self` and `close()`): the same, made of
 * `parentPort` and `process`.
 *
 * @module
 */
import process from "node:process";
import { parentPort } from "node:worker_threads";
import type { WorkerScope } from "./_web_protocol.ts";

/**
 * This thread's scope, as the worker entry uses it.
 *
 * @returns The scope.
 * @throws {Error} When this is not a worker thread.
 */
export function nodeScope(): WorkerScope {
  const port = parentPort;
  if (port === null) throw new Error("web_worker runs in a worker thread");
  let handler: ((event: MessageEvent) => void) | null = null;
  const scope: WorkerScope = {
    postMessage(message: unknown, transfer?: Transferable[]): void {
      port.postMessage(message, transfer as never);
    },
    get onmessage() {
      return handler;
    },
    // The port holds its messages until it has a listener.
    set onmessage(listener) {
      if (handler === null && listener !== null) {
        port.on(
          "message",
          (data: unknown) => handler?.({ data } as MessageEvent),
        );
      }
      handler = listener;
    },
    addEventListener(type: string, listener: (event: Event) => void): void {
      const dispatch = (fields: object): boolean => {
        const event = new Event(type, { cancelable: true });
        listener(Object.assign(event, fields));
        return event.defaultPrevented;
      };
      // Not prevented, the fault takes its course: thrown from the handler,
      // it ends the thread.
      if (type === "error") {
        process.on("uncaughtException", (error) => {
          if (!dispatch({ error })) throw error;
        });
      } else if (type === "unhandledrejection") {
        process.on("unhandledRejection", (reason) => {
          if (!dispatch({ reason })) throw reason;
        });
      } else if (type === "messageerror") {
        port.on("messageerror", (error) => dispatch({ data: error }));
      }
    },
  };
  // Tasks written for Web Workers call `self.close()` or `close()`.
  const globals = globalThis as unknown as {
    self?: WorkerScope;
    close?: () => void;
  };
  globals.self ??= scope;
  globals.close ??= () => scope.close?.();
  return scope;
}
