export * from './channel.js';
export * from './render.js';
export * from './secrets.js';
export * from './retry.js';
export * from './webhook/index.js';
export * from './registry.js';
export * from './email/index.js';
