/** The learning core: seeded randomness, feature hashing, posteriors and the bandit model. Pure: no I/O, no clock. */
export { seededRng, normal, fillNormal, gamma, beta, type Rng } from './rng.js';
export { hashFeatures, biasIndex, type FeatureInput } from './features.js';
export { localHour, type LocalHour } from './hour-of-week.js';
export { meanProbability, sdProbability, sampleProbability, type ArmPosterior } from './posterior.js';
export { LogisticRegression, INTERCEPT_PRIOR_SCALE, type LogitScore, type Intercept } from './logistic.js';
export { BetaBernoulli, BETA_PRIOR, type BetaArm } from './beta-bernoulli.js';
export { BanditModel } from './model.js';
export { SNAPSHOT_FORMAT, type ModelSettings, type ModelSnapshot } from './snapshot.js';
export { sigmoid } from './sigmoid.js';
export { attributeGoal, engagementReward, type AttributionRule, type Attributable } from './attribution.js';
