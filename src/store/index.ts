export type * from './store.js';
export { PROFILE_ID_KIND, tombstoneHash } from './erasure.js';
