/** The customer simulator, pure: scenarios, a population with hidden preferences, their responses, baselines, stats. */
export {
  parseScenario,
  scenarioSchema,
  ScenarioError,
  SIM_CHANNELS,
  type Scenario,
  type Persona,
  type SimAction,
  type Hidden,
  type SimChannel,
} from './scenario.js';
export { createWorld, streamSeed, type World, type SimCustomer } from './world.js';
export {
  messageOdds,
  conversionChance,
  planMessage,
  planOrganic,
  organicSurvives,
  inActiveHours,
  type MessageOdds,
  type MessagePlan,
  type OrganicPlan,
} from './response.js';
export {
  noAction,
  uniformRandom,
  staticJourney,
  oracle,
  baselines,
  type Policy,
  type Choice,
  type DecisionPoint,
} from './policies.js';
export { runEpisode, runPolicy, type Outcome } from './episode.js';
export {
  meanEstimate,
  rateEstimate,
  differenceEstimate,
  summarize,
  shareOf,
  type Estimate,
  type PolicySummary,
} from './stats.js';
