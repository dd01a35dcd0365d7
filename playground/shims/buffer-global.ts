/** Injected by esbuild into the browser bundle: every free `Buffer` refers to the shim. */
export { Buffer } from './buffer.js';
