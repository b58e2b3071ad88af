export { DecisionService, type DecisionSettings, type PlacementDecision } from './decision-service.js';
export { OutcomeService, type OutcomeResult } from './outcome-service.js';
export { Learner, LEARNABLE } from './learner.js';
export { outcomesFromEvent, settleExpired, LAST_GOAL_TRAIT } from './rewards.js';
export { GroupWriter } from './group-writer.js';
