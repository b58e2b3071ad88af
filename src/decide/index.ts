export { compileCatalog, expectedGoalValue, type Catalog, type CompiledAction } from './catalog.js';
export { candidatesFor } from './candidates.js';
export { checkEligibility, type EligibilityContext } from './eligibility.js';
export { applyPolicy, type ContactHistory, type ContactRecord } from './policy.js';
export { inHoldout, unitHash } from './holdout.js';
export { quietHoursEnd } from './quiet-hours.js';
export { scoreOption, type Option, type Scorer } from './score.js';
export { boundExploration, sampleIndex, thompsonDistribution } from './explore.js';
export { decide, type DecideRequest, type DecideDeps } from './decide.js';
