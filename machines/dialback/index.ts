/**
 * Server Dialback, XEP-0220, as pure building blocks for the server-to-server stream machines:
 * keys (./key.ts), elements (./elements.ts), error conditions (./errors.ts), one machine per
 * domain pair for each side (./originating.ts §2.1.1, ./receiving.ts §2.2.1 with §2.1.2), the
 * Authoritative Server's answer (./authoritative.ts §2.2.2) and multiplexing (./pairs.ts §2.6).
 */
export * from './authoritative.js';
export * from './elements.js';
export * from './errors.js';
export * from './key.js';
export * from './originating.js';
export * from './pairs.js';
export * from './policy.js';
export * from './receiving.js';
export * from './types.js';
