import type BetterSqlite3 from 'better-sqlite3';
import type { Decision, Outcome } from '../../domain/index.js';
import { PathwiseError } from '../../errors.js';
import type { FinalOutcome, ModelSnapshot, StoredDecision } from '../store.js';
import { decisionParams, outcomeParams, toDecision, toOutcome, toStoredDecision } from './decision-rows.js';
import type { DecisionRow, OutcomeRow } from './schema.js';

type Param = string | number | null;
type Db = BetterSqlite3.Database;

const defaults = {
  /** Model snapshots kept: the newest, and a few before it to fall back on if it cannot be loaded. */
  keepModelSnapshots: 5,
} as const;

const DECISION_COLUMNS =
  'id, profile_id, at, action_id, channel, send_at, propensity, mode, holdout, model_version, attribution_ends_at, signal, features, explanation';

/** The decision log's statements, prepared once with the writer's others (see writer.ts). */
export const prepareDecisionStatements = (db: Db) => ({
  insertDecision: db.prepare<Param[]>(
    `INSERT INTO decisions (${DECISION_COLUMNS}) VALUES (${DECISION_COLUMNS.split(', ')
      .map(() => '?')
      .join(', ')})`,
  ),
  getDecision: db.prepare<[string], DecisionRow>('SELECT * FROM decisions WHERE id = ?'),
  outcomesOf: db.prepare<[string], Omit<OutcomeRow, 'seq' | 'profile_id'>>(
    'SELECT decision_id, cause, at, kind, reward, value FROM outcomes WHERE decision_id = ? ORDER BY at, seq',
  ),
  decisionsSince: db.prepare<[string, number], DecisionRow>(
    'SELECT * FROM decisions WHERE profile_id = ? AND at >= ? ORDER BY at, seq',
  ),
  // The profile comes from the decision, so an outcome of an unknown decision inserts nothing.
  insertOutcome: db.prepare<Param[]>(
    `INSERT INTO outcomes (profile_id, decision_id, cause, at, kind, reward, value)
     SELECT profile_id, id, ?, ?, ?, ?, ? FROM decisions WHERE id = ?
     ON CONFLICT (decision_id, cause) DO NOTHING`,
  ),
  decisionExists: db.prepare<[string], number>('SELECT 1 FROM decisions WHERE id = ?').pluck(),
  resolve: db
    .prepare<[number, number, number, string, string], number>(
      `UPDATE decisions SET resolved_seq = (SELECT value + 1 FROM counters WHERE name = 'resolved_seq'),
         resolved_reward = ?, resolved_value = ?, resolved_at = ?, resolved_kind = ?
       WHERE id = ? AND resolved_seq IS NULL RETURNING resolved_seq`,
    )
    .pluck(),
  advanceResolvedSeq: db.prepare<[number]>("UPDATE counters SET value = ? WHERE name = 'resolved_seq'"),
  insertSnapshot: db.prepare<[number, number, number, string]>(
    'INSERT INTO model_snapshots (version, at, resolved_seq, data) VALUES (?, ?, ?, ?)',
  ),
  // Deletes the snapshot `keep` places behind the newest, and every older one.
  pruneSnapshots: db.prepare<[number]>(
    'DELETE FROM model_snapshots WHERE seq <= (SELECT seq FROM model_snapshots ORDER BY seq DESC LIMIT 1 OFFSET ?)',
  ),
  moveDecisions: db.prepare<[string, string]>('UPDATE decisions SET profile_id = ? WHERE profile_id = ?'),
  moveOutcomes: db.prepare<[string, string]>('UPDATE outcomes SET profile_id = ? WHERE profile_id = ?'),
});

export type DecisionStatements = ReturnType<typeof prepareDecisionStatements>;

/** The StoreWriter's decision methods, as functions of the transaction's statements (see SqliteWriter). */
export const saveDecision = (s: DecisionStatements, d: Decision): void => {
  try {
    s.insertDecision.run(...decisionParams(d));
  } catch (err) {
    if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
      throw new PathwiseError('PW_ERR_STORE_CONFLICT', `decision ${d.id} is already stored`, { cause: err });
    }
    throw err;
  }
};

export const getDecision = (s: DecisionStatements, id: string): StoredDecision | undefined => {
  const row = s.getDecision.get(id);
  return row === undefined ? undefined : toStoredDecision(row, s.outcomesOf.all(id).map(toOutcome));
};

export const decisionsSince = (
  s: DecisionStatements,
  profileId: string,
  since: number,
): Array<Decision & { resolved: boolean }> =>
  s.decisionsSince
    .all(profileId, since)
    .map((row) => ({ ...toDecision(row), resolved: row.resolved_seq !== null }));

export const addOutcome = (s: DecisionStatements, o: Outcome): boolean => {
  if (s.insertOutcome.run(...outcomeParams(o)).changes === 1) return true;
  // Nothing inserted: a repeat (the usual case), or a decision that does not exist (a caller bug).
  if (s.decisionExists.get(o.decisionId) === undefined) {
    throw new Error(`outcome ${o.cause} names decision ${o.decisionId}, which is not stored`);
  }
  return false;
};

export const resolveDecision = (
  s: DecisionStatements,
  decisionId: string,
  final: FinalOutcome,
): number | undefined => {
  const seq = s.resolve.get(final.reward, final.value, final.at, final.kind, decisionId);
  if (seq !== undefined) s.advanceResolvedSeq.run(seq);
  return seq;
};

export const saveModelSnapshot = (s: DecisionStatements, snap: ModelSnapshot): void => {
  s.insertSnapshot.run(snap.version, snap.at, snap.resolvedSeq, snap.data);
  s.pruneSnapshots.run(defaults.keepModelSnapshots);
};

/** Part of foldProfile: the decisions of `fromId`, and the outcomes copied with its id, move to `intoId`. */
export const moveDecisions = (s: DecisionStatements, fromId: string, intoId: string): void => {
  s.moveDecisions.run(intoId, fromId);
  s.moveOutcomes.run(intoId, fromId);
};
