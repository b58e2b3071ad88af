import {
  NOTHING,
  type CandidateTrace,
  type Decision,
  type DecisionMode,
  type JsonObject,
  type Signal,
  type SparseFeatures,
} from '../domain/index.js';
import type { Rng } from '../learn/index.js';
import type { Catalog, CompiledAction } from './catalog.js';
import { candidatesFor } from './candidates.js';
import { checkEligibility } from './eligibility.js';
import { applyPolicy, type ContactHistory } from './policy.js';
import { inHoldout } from './holdout.js';
import { scoreOption, type Option, type Scorer } from './score.js';
import { boundExploration, sampleIndex, thompsonDistribution } from './explore.js';
import { summarize } from './summary.js';

export interface DecideRequest {
  /** The new decision's id. */
  id: string;
  profile: { id: string; traits: JsonObject; segments: readonly string[] };
  /** Computed trait values (as segment expressions see them). */
  computed: Record<string, unknown>;
  signal: Signal;
  features: SparseFeatures;
  history: ContactHistory;
}

export interface DecideDeps {
  catalog: Catalog;
  model: Scorer;
  rng: Rng;
  now: number;
  /** How long a goal still counts for this decision (the goal's attribution window). */
  attributionWindow: number;
}

const eventOf = (signal: Signal): Record<string, unknown> =>
  signal.kind === 'event' ? { name: signal.event, properties: signal.properties } : {};

/**
 * The decision pipeline, a pure function: candidates → eligibility → contact policy → score → arbitrate →
 * explore → choose. Every stage writes to the explanation; the result always carries its propensity.
 */
export const decide = (req: DecideRequest, deps: DecideDeps): Decision => {
  const { catalog, now } = deps;
  const traces: CandidateTrace[] = [];
  const survivors: { action: CompiledAction; trace: CandidateTrace; sendAt: number }[] = [];
  const ctx = {
    traits: req.profile.traits,
    computed: req.computed,
    segments: req.profile.segments,
    event: eventOf(req.signal),
    context: req.signal.kind === 'placement' ? req.signal.context : {},
    now: new Date(now),
  };
  for (const action of candidatesFor(catalog, req.signal)) {
    const trace: CandidateTrace = { actionId: action.id, channel: action.channel };
    traces.push(trace);
    const notEligible = checkEligibility(action, ctx, now);
    if (notEligible !== undefined) {
      trace.removed = notEligible;
      continue;
    }
    if (catalog.deliverable !== undefined && !catalog.deliverable.has(action.channel)) {
      trace.removed = {
        stage: 'policy',
        rule: `channels.${action.channel}`,
        reason: `no ${action.channel} channel is configured under channels:`,
      };
      continue;
    }
    const policy = applyPolicy(action, catalog.policy, req.profile, req.history, now);
    if ('removed' in policy) trace.removed = policy.removed;
    else survivors.push({ action, trace, sendAt: policy.sendAt });
  }

  const holdout = inHoldout(req.profile.id, catalog.holdout);
  const base = {
    id: req.id,
    profileId: req.profile.id,
    at: now,
    signal: req.signal,
    holdout,
    modelVersion: deps.model.version,
    features: req.features,
    attributionEndsAt: now + deps.attributionWindow,
  };
  const nothing = (mode: DecisionMode): Decision => {
    const explanation = {
      mode,
      candidates: traces,
      chosen: null,
      propensity: 1,
      modelVersion: deps.model.version,
    };
    return {
      ...base,
      actionId: null,
      channel: null,
      sendAt: null,
      propensity: 1,
      mode,
      explanation: { ...explanation, summary: summarize(explanation, catalog) },
    };
  };

  if (catalog.policy.killSwitch && survivors.length > 0) {
    for (const s of survivors)
      s.trace.removed = { stage: 'policy', rule: 'policy.killSwitch', reason: 'the kill switch is on' };
    return nothing('kill-switch');
  }
  if (survivors.length === 0) return nothing('no-candidates');
  if (holdout) return nothing('holdout');

  // Doing nothing comes first, so on a tie the customer is left alone.
  const options: Option[] = [
    scoreOption(null, deps.model.posterior(NOTHING, req.features), {
      value: catalog.goalValue,
      weight: 1,
      cost: 0,
    }),
    ...survivors.map((s) =>
      scoreOption(s.action.id, deps.model.posterior(s.action.id, req.features), {
        value: s.action.value,
        weight: s.action.config.weight,
        cost: s.action.config.cost,
      }),
    ),
  ];
  let greedy = 0;
  options.forEach((o, i) => {
    if (o.parts.expectedValue > (options[greedy] as Option).parts.expectedValue) greedy = i;
  });
  const dist = boundExploration(
    thompsonDistribution(options, catalog.propensitySamples, deps.rng),
    greedy,
    catalog.exploration,
  );
  options.forEach((o, i) => (o.parts.probabilityChosen = dist[i] as number));
  survivors.forEach((s, i) => (s.trace.score = (options[i + 1] as Option).parts));

  const pick = sampleIndex(dist, deps.rng);
  const chosen = options[pick] as Option;
  const mode: DecisionMode = pick === greedy ? 'exploit' : 'explore';
  const propensity = dist[pick] as number;
  const survivor = pick === 0 ? undefined : survivors[pick - 1];
  const explanation = {
    mode,
    candidates: traces,
    nothing: (options[0] as Option).parts,
    chosen: chosen.actionId,
    propensity,
    modelVersion: deps.model.version,
  };
  return {
    ...base,
    actionId: chosen.actionId,
    channel: survivor?.action.channel ?? null,
    sendAt: survivor?.sendAt ?? null,
    propensity,
    mode,
    explanation: { ...explanation, summary: summarize(explanation, catalog) },
  };
};
