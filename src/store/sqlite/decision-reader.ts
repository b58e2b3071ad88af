import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { Decision } from '../../domain/index.js';
import type {
  ContactRecord,
  DecisionSummary,
  ModelSnapshot,
  ResolvedRecord,
  StoredDecision,
} from '../store.js';
import { checkLimit } from './cursor.js';
import {
  toDecision,
  toDecisionSummary,
  toOutcome,
  toResolvedRecord,
  toStoredDecision,
} from './decision-rows.js';
import type { Database } from './schema.js';

/** The StoreReader's decision queries, as functions of a kysely instance (see SqliteReader). */
type Db = Kysely<Database>;

export const getDecision = async (db: Db, id: string): Promise<StoredDecision | undefined> => {
  const row = await db.selectFrom('decisions').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) return undefined;
  const outcomes = await db
    .selectFrom('outcomes')
    .select(['decision_id', 'cause', 'at', 'kind', 'reward', 'value'])
    .where('decision_id', '=', id)
    .orderBy('at')
    .orderBy('seq')
    .execute();
  return toStoredDecision(row, outcomes.map(toOutcome));
};

export const recentDecisions = async (db: Db, profileId: string, since: number): Promise<ContactRecord[]> => {
  const rows = await db
    .selectFrom('decisions as d')
    .select(['d.id', 'd.action_id', 'd.channel', 'd.at', 'd.send_at'])
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom('outcomes as o')
            .select('o.seq')
            .whereRef('o.decision_id', '=', 'd.id')
            .where('o.kind', 'in', ['goal', 'engagement']),
        )
        .as('responded'),
    )
    .where('d.profile_id', '=', profileId)
    .where('d.at', '>=', since)
    .where('d.action_id', 'is not', null)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('deliveries as x')
            .select('x.seq')
            .whereRef('x.id', '=', 'd.id')
            .where('x.status', 'in', ['failed', 'cancelled']),
        ),
      ),
    )
    .orderBy('d.at', 'desc')
    .orderBy('d.seq', 'desc')
    .execute();
  return rows.map((r) => ({
    decisionId: r.id,
    actionId: r.action_id as string,
    channel: r.channel as ContactRecord['channel'],
    at: r.at,
    sendAt: r.send_at,
    responded: Boolean(r.responded),
  }));
};

export const lastGoalAt = async (db: Db, profileId: string): Promise<number | undefined> => {
  const row = await db
    .selectFrom('outcomes')
    .select((eb) => eb.fn.max('at').as('at'))
    .where('profile_id', '=', profileId)
    .where('kind', '=', 'goal')
    .executeTakeFirst();
  return row?.at ?? undefined;
};

/**
 * Walks the distinct actions through the (action_id, at) index (a loose index scan: one seek per action)
 * and counts each one's range, so the cost follows the decisions since `since`, not the whole history.
 */
export const actionSendCounts = async (db: Db, since: number): Promise<Map<string, number>> => {
  const { rows } = await sql<{ action_id: string; n: number }>`
    WITH RECURSIVE actions(id) AS (
      SELECT min(action_id) FROM decisions WHERE action_id IS NOT NULL
      UNION ALL
      SELECT (SELECT min(action_id) FROM decisions WHERE action_id > actions.id) FROM actions
      WHERE actions.id IS NOT NULL
    )
    SELECT id AS action_id, (SELECT count(*) FROM decisions WHERE action_id = actions.id AND at >= ${since}) AS n
    FROM actions WHERE id IS NOT NULL`.execute(db);
  return new Map(rows.filter((r) => r.n > 0).map((r) => [r.action_id, r.n]));
};

export const expiredDecisions = async (db: Db, now: number, limit: number): Promise<Decision[]> => {
  const rows = await db
    .selectFrom('decisions')
    .selectAll()
    .where('resolved_seq', 'is', null)
    .where('attribution_ends_at', '<=', now)
    .orderBy('attribution_ends_at')
    .orderBy('seq')
    .limit(checkLimit(limit))
    .execute();
  return rows.map(toDecision);
};

export const resolvedSince = async (db: Db, afterSeq: number, limit: number): Promise<ResolvedRecord[]> => {
  const rows = await db
    .selectFrom('decisions')
    .select([
      'id',
      'action_id',
      'features',
      'holdout',
      'mode',
      'propensity',
      'resolved_reward',
      'resolved_at',
    ])
    .select((eb) => eb.ref('resolved_seq').$notNull().as('resolved_seq'))
    .where('resolved_seq', '>', afterSeq)
    .orderBy('resolved_seq')
    .limit(checkLimit(limit))
    .execute();
  return rows.map(toResolvedRecord);
};

export const latestModelSnapshot = async (db: Db): Promise<ModelSnapshot | undefined> => {
  const row = await db
    .selectFrom('model_snapshots')
    .select(['version', 'at', 'resolved_seq', 'data'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : { version: row.version, at: row.at, resolvedSeq: row.resolved_seq, data: row.data };
};

/** Decisions of the profile for its timeline, newest first, at most `limit + 1`, after the cursor. */
export const timelineDecisions = async (
  db: Db,
  profileId: string,
  limit: number,
  after?: Expression<SqlBool>,
): Promise<Array<{ kind: 'decision'; at: number; seq: number; decision: DecisionSummary }>> => {
  let q = db
    .selectFrom('decisions')
    .select([
      'seq',
      'at',
      'id',
      'action_id',
      'channel',
      'send_at',
      'mode',
      'propensity',
      'holdout',
      'model_version',
      'resolved_seq',
      'resolved_reward',
      'resolved_value',
      'resolved_at',
      'resolved_kind',
    ])
    // The summary alone: the full explanation (every candidate's trace) is for getDecision.
    .select(sql<string | null>`json_extract(explanation, '$.summary')`.as('summary'))
    .where('profile_id', '=', profileId);
  if (after !== undefined) q = q.where(after);
  const rows = await q
    .orderBy('at', 'desc')
    .orderBy('seq', 'desc')
    .limit(limit + 1)
    .execute();
  return rows.map((row) => ({
    kind: 'decision' as const,
    at: row.at,
    seq: row.seq,
    decision: toDecisionSummary(row),
  }));
};
