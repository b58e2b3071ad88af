import {
  NOTHING,
  type CandidateTrace,
  type Channel,
  type Decision,
  type DecisionMode,
  type Explanation,
  type JsonObject,
  type Signal,
  type SparseFeatures,
} from '../domain/index.js';
import type { ArmPosterior, Rng } from '../learn/index.js';
import type { Catalog, CompiledAction } from './catalog.js';
import { candidatesFor } from './candidates.js';
import { checkEligibility } from './eligibility.js';
import { applyPolicy, type ContactHistory } from './policy.js';
import { inHoldout } from './holdout.js';
import { posteriorsOf, scoreOption, type Option, type Scorer } from './score.js';
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

/** The trait a channel needs to reach someone (webhook and web need none). */
const ADDRESS: Partial<Record<Channel, string>> = { email: 'email', sms: 'phone', push: 'push_token' };

const unreachableBy = (channel: Channel, traits: JsonObject): string | undefined => {
  const trait = ADDRESS[channel];
  if (trait === undefined) return undefined;
  const v = traits[trait];
  return typeof v === 'string' && v.trim() !== ''
    ? undefined
    : `the customer has no ${channel} address (traits.${trait})`;
};

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
    const unreachable = unreachableBy(action.channel, req.profile.traits);
    if (unreachable !== undefined) {
      trace.removed = { stage: 'policy', rule: `channels.${action.channel}`, reason: unreachable };
      continue;
    }
    const policy = applyPolicy(
      action,
      catalog.policy,
      req.profile,
      req.history,
      now,
      (id) => catalog.byId.get(id)?.config.responseWindow ?? 86_400_000,
    );
    if ('removed' in policy) trace.removed = policy.removed;
    else survivors.push({ action, trace, sendAt: policy.sendAt });
  }

  const holdout = inHoldout(req.profile.id, catalog.holdout);
  // The decision as logged, its fields always in this order. Written out rather than spread from a shared
  // base: object spread costs more than the rest of building the decision.
  const make = (
    actionId: string | null,
    channel: Channel | null,
    sendAt: number | null,
    propensity: number,
    explanation: Explanation,
  ): Decision => {
    explanation.summary = summarize(explanation, catalog);
    return {
      id: req.id,
      profileId: req.profile.id,
      at: now,
      signal: req.signal,
      holdout,
      modelVersion: deps.model.version,
      features: req.features,
      attributionEndsAt: now + deps.attributionWindow,
      actionId,
      channel,
      sendAt,
      propensity,
      mode: explanation.mode,
      explanation,
    };
  };
  const nothing = (mode: DecisionMode): Decision =>
    make(null, null, null, 1, {
      mode,
      candidates: traces,
      chosen: null,
      propensity: 1,
      modelVersion: deps.model.version,
      summary: '',
    });

  if (catalog.policy.killSwitch && survivors.length > 0) {
    for (const s of survivors)
      s.trace.removed = { stage: 'policy', rule: 'policy.killSwitch', reason: 'the kill switch is on' };
    return nothing('kill-switch');
  }
  if (survivors.length === 0) return nothing('no-candidates');
  if (holdout) return nothing('holdout');

  // Doing nothing comes first, so on a tie the customer is left alone.
  const arms = [NOTHING];
  for (const s of survivors) arms.push(s.action.id);
  const posteriors = posteriorsOf(deps.model, arms, req.features);
  const options: Option[] = [
    scoreOption(null, posteriors[0] as ArmPosterior, { value: catalog.goalValue, weight: 1, cost: 0 }),
  ];
  let greedy = 0;
  for (let i = 0; i < survivors.length; i++) {
    const { action } = survivors[i] as (typeof survivors)[number];
    const o = scoreOption(action.id, posteriors[i + 1] as ArmPosterior, {
      value: action.value,
      weight: action.config.weight,
      cost: action.config.cost,
    });
    if (o.parts.expectedValue > (options[greedy] as Option).parts.expectedValue) greedy = i + 1;
    options.push(o);
  }
  const dist = boundExploration(
    thompsonDistribution(options, catalog.propensitySamples, deps.rng),
    greedy,
    catalog.exploration,
  );
  for (let i = 0; i < options.length; i++) (options[i] as Option).parts.probabilityChosen = dist[i] as number;
  survivors.forEach((s, i) => (s.trace.score = (options[i + 1] as Option).parts));

  const pick = sampleIndex(dist, deps.rng);
  const chosen = options[pick] as Option;
  const mode: DecisionMode = pick === greedy ? 'exploit' : 'explore';
  const propensity = dist[pick] as number;
  const survivor = pick === 0 ? undefined : survivors[pick - 1];
  return make(chosen.actionId, survivor?.action.channel ?? null, survivor?.sendAt ?? null, propensity, {
    mode,
    candidates: traces,
    nothing: (options[0] as Option).parts,
    chosen: chosen.actionId,
    propensity,
    modelVersion: deps.model.version,
    summary: '',
  });
};
