export * from './event.js';
export * from './profile.js';
export * from './clock.js';
export * from './decision.js';
export * from './local-time.js';
export * from './delivery.js';
