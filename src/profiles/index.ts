export * from './service.js';
export * from './resolve.js';
export * from './core/index.js';
export * from './query.js';
export * from './refresher.js';
export * from './privacy.js';
