export * from './schema.js';
export * from './load.js';
export { celMessage } from './check.js';
export * from './decisioning.js';
export * from './channels.js';
