export * from './app.js';
export * from './auth.js';
export * from './metrics.js';
export type { ReloadResult } from './routes/admin.js';
