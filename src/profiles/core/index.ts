export * from './traits.js';
export * from './computed.js';
export * from './segments.js';
export * from './identifiers.js';
export * from './merge.js';
export * from './event-key.js';
