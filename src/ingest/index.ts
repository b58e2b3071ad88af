export * from './service.js';
export * from './metrics.js';
export { normalizeEvent, type NormalizeContext, type NormalizeResult } from './normalize.js';
export { checkTrackingPlan } from './tracking-plan.js';
