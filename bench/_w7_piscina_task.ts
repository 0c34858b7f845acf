/**
 * W7's task for piscina, which runs the default export of a module.
 *
 * @module
 */
import { fib } from "./_w3.ts";

export default fib;
