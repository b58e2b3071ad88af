import type {
  Channel,
  Decision,
  DecisionMode,
  Explanation,
  Outcome,
  Signal,
  SparseFeatures,
} from '../../domain/index.js';
import type { DecisionSummary, Resolution, ResolvedRecord, StoredDecision } from '../store.js';
import type { DecisionRow, OutcomeRow } from './schema.js';

/** Conversions between decisions, outcomes and their rows, shared by the writer's statements and the reader. */

type Param = string | number | null;

/** Parameters of the decision insert, in column order (see decision-writer.ts). */
export const decisionParams = (d: Decision): Param[] => [
  d.id,
  d.profileId,
  d.at,
  d.actionId,
  d.channel,
  d.sendAt,
  d.propensity,
  d.mode,
  d.holdout ? 1 : 0,
  d.modelVersion,
  d.attributionEndsAt,
  JSON.stringify(d.signal),
  // Only the two arrays, whatever else the caller's object carries.
  JSON.stringify({ idx: d.features.idx, val: d.features.val }),
  JSON.stringify(d.explanation),
];

/** Parameters of the outcome insert, in column order (see decision-writer.ts), the decision id last. */
export const outcomeParams = (o: Outcome): Param[] => [
  o.cause,
  o.at,
  o.kind,
  o.reward,
  o.value,
  o.decisionId,
];

export const toDecision = (row: DecisionRow): Decision => ({
  id: row.id,
  profileId: row.profile_id,
  at: row.at,
  signal: JSON.parse(row.signal) as Signal,
  actionId: row.action_id,
  channel: row.channel as Channel | null,
  sendAt: row.send_at,
  propensity: row.propensity,
  mode: row.mode as DecisionMode,
  holdout: row.holdout !== 0,
  modelVersion: row.model_version,
  features: JSON.parse(row.features) as SparseFeatures,
  explanation: JSON.parse(row.explanation) as Explanation,
  attributionEndsAt: row.attribution_ends_at,
});

type ResolutionColumns = Pick<
  DecisionRow,
  'resolved_seq' | 'resolved_reward' | 'resolved_value' | 'resolved_at' | 'resolved_kind'
>;

export const toResolution = (row: ResolutionColumns): Resolution | undefined =>
  row.resolved_seq === null
    ? undefined
    : {
        reward: row.resolved_reward as number,
        value: row.resolved_value as number,
        at: row.resolved_at as number,
        kind: row.resolved_kind as Resolution['kind'],
        resolvedSeq: row.resolved_seq,
      };

export const toOutcome = (row: Omit<OutcomeRow, 'seq' | 'profile_id'>): Outcome => ({
  decisionId: row.decision_id,
  at: row.at,
  kind: row.kind as Outcome['kind'],
  reward: row.reward,
  value: row.value,
  cause: row.cause,
});

export const toStoredDecision = (row: DecisionRow, outcomes: Outcome[]): StoredDecision => {
  const resolution = toResolution(row);
  const d: StoredDecision = { ...toDecision(row), outcomes };
  if (resolution !== undefined) d.resolution = resolution;
  return d;
};

export type SummaryRow = ResolutionColumns &
  Pick<
    DecisionRow,
    'id' | 'action_id' | 'channel' | 'send_at' | 'mode' | 'propensity' | 'holdout' | 'model_version'
  > & { summary: string | null };

export const toDecisionSummary = (row: SummaryRow): DecisionSummary => {
  const s: DecisionSummary = {
    id: row.id,
    actionId: row.action_id,
    channel: row.channel as Channel | null,
    sendAt: row.send_at,
    mode: row.mode as DecisionMode,
    propensity: row.propensity,
    holdout: row.holdout !== 0,
    modelVersion: row.model_version,
    summary: row.summary ?? '',
  };
  const resolution = toResolution(row);
  if (resolution !== undefined) s.resolution = resolution;
  return s;
};

export const toResolvedRecord = (
  row: Pick<
    DecisionRow,
    'id' | 'action_id' | 'features' | 'holdout' | 'mode' | 'propensity' | 'resolved_reward' | 'resolved_at'
  > & { resolved_seq: number },
): ResolvedRecord => ({
  resolvedSeq: row.resolved_seq,
  decisionId: row.id,
  actionId: row.action_id,
  features: JSON.parse(row.features) as SparseFeatures,
  reward: row.resolved_reward as number,
  at: row.resolved_at as number,
  holdout: row.holdout !== 0,
  mode: row.mode as DecisionMode,
  propensity: row.propensity,
});
