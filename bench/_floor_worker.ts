/**
 * The worker of the bare children (`_floor_child.ts`): answers each
 * `{ id, x }` frame with `{ id, v: x + 2 }` and each `{ id, fib }` frame
 * with `{ id, v: fib(n) }`. It drains every complete frame a read gives and
 * sends all the answers in one write, which the benchmark plan found twice as
 * fast as one read per frame.
 *
 * @module
 */
import { openStdio } from "../workers/_stdio.ts";
import { FrameReader, FrameWriter } from "../workers/_protocol.ts";

interface Request {
  id: number;
  x?: number;
  fib?: number;
}

function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

const stdio = await openStdio();
const reader = new FrameReader();
const writer = new FrameWriter();
for await (const chunk of stdio.chunks()) {
  for (const message of reader.push(chunk) as Request[]) {
    const v = message.fib === undefined ? message.x! + 2 : fib(message.fib);
    writer.add({ id: message.id, v });
  }
  if (writer.size > 0) stdio.write(writer.take());
}
await stdio.exit(0);
