import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The schema, one migration per change, applied in name order by kysely's Migrator. Never edit a migration
 * that has shipped: add the next one. Every statement is `if not exists` so a half-applied first run heals.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('events')
        .ifNotExists()
        // AUTOINCREMENT: a seq is never reused, even after erasing the newest events.
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('msg_hash', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('event', 'text')
        .addColumn('profile_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('anonymous_id', 'text')
        .addColumn('ts', 'integer', (c) => c.notNull())
        .addColumn('received_at', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_msg_hash').ifNotExists().on('events').column('msg_hash').execute();
      await db.schema
        .createIndex('events_profile_ts_seq')
        .ifNotExists()
        .on('events')
        .columns(['profile_id', 'ts', 'seq'])
        .execute();

      // Small rows looked up by key: WITHOUT ROWID stores them in the primary-key b-tree itself.
      await db.schema
        .createTable('identities')
        .ifNotExists()
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('profile_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('identities_pk', ['kind', 'value'])
        .modifyEnd(sql`without rowid`)
        .execute();
      await db.schema
        .createIndex('identities_profile')
        .ifNotExists()
        .on('identities')
        .column('profile_id')
        .execute();
      // Bare-value lookups (`GET /v1/profiles/ada@example.com`) do not know the kind: they probe the primary
      // key once per kind in use, listed here. (An index on value would cost a random page per link.)
      await db.schema
        .createTable('identity_kinds')
        .ifNotExists()
        .addColumn('kind', 'text', (c) => c.primaryKey())
        .modifyEnd(sql`without rowid`)
        .execute();

      await db.schema
        .createTable('profiles')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('merged_into', 'text')
        .addColumn('traits', 'text', (c) => c.notNull())
        .addColumn('trait_times', 'text', (c) => c.notNull())
        .addColumn('computed', 'text', (c) => c.notNull())
        .addColumn('segments', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'integer', (c) => c.notNull())
        .addColumn('last_seen', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'integer', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      // Partial: only folded profiles are indexed, so live ones cost nothing here.
      await db.schema
        .createIndex('profiles_merged_into')
        .ifNotExists()
        .on('profiles')
        .column('merged_into')
        .where(sql.ref('merged_into'), 'is not', null)
        .execute();

      await db.schema
        .createTable('profile_segments')
        .ifNotExists()
        .addColumn('segment', 'text', (c) => c.notNull())
        .addColumn('profile_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('profile_segments_pk', ['segment', 'profile_id'])
        .modifyEnd(sql`without rowid`)
        .execute();
      await db.schema
        .createIndex('profile_segments_profile')
        .ifNotExists()
        .on('profile_segments')
        .column('profile_id')
        .execute();

      await db.schema
        .createTable('merges')
        .ifNotExists()
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('at', 'integer', (c) => c.notNull())
        .addColumn('cause', 'text', (c) => c.notNull())
        .addColumn('into_profile_id', 'text', (c) => c.notNull())
        .addColumn('from_profile_id', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('from_snapshot', 'text')
        .execute();
      await db.schema
        .createIndex('merges_into_at_seq')
        .ifNotExists()
        .on('merges')
        .columns(['into_profile_id', 'at', 'seq'])
        .execute();
      await db.schema
        .createIndex('merges_from')
        .ifNotExists()
        .on('merges')
        .column('from_profile_id')
        .execute();

      await db.schema
        .createTable('dead_letters')
        .ifNotExists()
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('received_at', 'integer', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('field', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text')
        .execute();
      await db.schema
        .createIndex('dead_letters_source_id')
        .ifNotExists()
        .on('dead_letters')
        .columns(['source', 'id'])
        .execute();
    },
  },

  '0002_decisions': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('decisions')
        .ifNotExists()
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('profile_id', 'text', (c) => c.notNull())
        .addColumn('at', 'integer', (c) => c.notNull())
        .addColumn('action_id', 'text')
        .addColumn('channel', 'text')
        .addColumn('send_at', 'integer')
        .addColumn('propensity', 'real', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('holdout', 'integer', (c) => c.notNull())
        .addColumn('model_version', 'integer', (c) => c.notNull())
        .addColumn('attribution_ends_at', 'integer', (c) => c.notNull())
        .addColumn('signal', 'text', (c) => c.notNull())
        .addColumn('features', 'text', (c) => c.notNull())
        .addColumn('explanation', 'text', (c) => c.notNull())
        .addColumn('resolved_seq', 'integer')
        .addColumn('resolved_reward', 'real')
        .addColumn('resolved_value', 'real')
        .addColumn('resolved_at', 'integer')
        .addColumn('resolved_kind', 'text')
        .execute();
      // Open decisions, contact history, the timeline and folds (the rowid, seq, ends every index entry).
      await db.schema
        .createIndex('decisions_profile_at')
        .ifNotExists()
        .on('decisions')
        .columns(['profile_id', 'at'])
        .execute();
      // Partial: the sweep reads only decisions still waiting, and the index shrinks as they resolve.
      await db.schema
        .createIndex('decisions_unresolved_deadline')
        .ifNotExists()
        .on('decisions')
        .column('attribution_ends_at')
        .where(sql.ref('resolved_seq'), 'is', null)
        .execute();
      await db.schema
        .createIndex('decisions_resolved_seq')
        .ifNotExists()
        .unique()
        .on('decisions')
        .column('resolved_seq')
        .where(sql.ref('resolved_seq'), 'is not', null)
        .execute();
      // Budgets: counted per action over a time range (see actionSendCounts).
      await db.schema
        .createIndex('decisions_action_at')
        .ifNotExists()
        .on('decisions')
        .columns(['action_id', 'at'])
        .where(sql.ref('action_id'), 'is not', null)
        .execute();

      await db.schema
        .createTable('outcomes')
        .ifNotExists()
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('decision_id', 'text', (c) => c.notNull())
        .addColumn('cause', 'text', (c) => c.notNull())
        .addColumn('profile_id', 'text', (c) => c.notNull())
        .addColumn('at', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('reward', 'real', (c) => c.notNull())
        .addColumn('value', 'real', (c) => c.notNull())
        .addUniqueConstraint('outcomes_decision_cause', ['decision_id', 'cause'])
        .execute();
      // The latest goal of a profile (max(at) for one (profile_id, kind)), and folds.
      await db.schema
        .createIndex('outcomes_profile_kind_at')
        .ifNotExists()
        .on('outcomes')
        .columns(['profile_id', 'kind', 'at'])
        .execute();

      await db.schema
        .createTable('model_snapshots')
        .ifNotExists()
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('at', 'integer', (c) => c.notNull())
        .addColumn('resolved_seq', 'integer', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();

      // resolvedSeq comes from a counter, not max(resolved_seq) + 1: erasing a profile's decisions must never
      // hand out a position again, or a model snapshot taken after it would skip the new rewards.
      await db.schema
        .createTable('counters')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'integer', (c) => c.notNull())
        .modifyEnd(sql`without rowid`)
        .execute();
      await sql`insert or ignore into counters (name, value) values ('resolved_seq', 0)`.execute(db);
    },
  },

  '0003_outbox': {
    async up(db: Kysely<unknown>): Promise<void> {
      // `seq` is the rowid: with no AUTOINCREMENT a new row's is max + 1, so it still orders rows by insertion
      // among the rows that exist, without a write to sqlite_sequence per insert.
      await db.schema
        .createTable('deliveries')
        .ifNotExists()
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('decision_id', 'text', (c) => c.notNull())
        .addColumn('profile_id', 'text', (c) => c.notNull())
        .addColumn('action_id', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text', (c) => c.notNull())
        .addColumn('send_at', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'integer', (c) => c.notNull())
        .addColumn('sent_at', 'integer')
        .addColumn('provider_id', 'text')
        .addColumn('reason', 'text')
        .execute();
      // Partial: the dispatcher reads only pending deliveries, and the index shrinks as they are sent. Queries
      // must spell `status = 'pending'` literally (not as a parameter) for SQLite to pick it.
      await db.schema
        .createIndex('deliveries_pending_due')
        .ifNotExists()
        .on('deliveries')
        .column('next_attempt_at')
        .where(sql.ref('status'), '=', 'pending')
        .execute();
      // deliveriesOf, cancelling a profile's deliveries, and folds.
      await db.schema
        .createIndex('deliveries_profile_created')
        .ifNotExists()
        .on('deliveries')
        .columns(['profile_id', 'created_at'])
        .execute();
      // Pausing an action cancels its pending deliveries: only those are indexed.
      await db.schema
        .createIndex('deliveries_pending_action')
        .ifNotExists()
        .on('deliveries')
        .column('action_id')
        .where(sql.ref('status'), '=', 'pending')
        .execute();

      await db.schema
        .createTable('timers')
        .ifNotExists()
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('profile_id', 'text', (c) => c.notNull())
        .addColumn('due_at', 'integer', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .execute();
      // Every index entry ends with the rowid, so this one also serves `ORDER BY due_at, seq`.
      await db.schema.createIndex('timers_due').ifNotExists().on('timers').column('due_at').execute();
      await db.schema.createIndex('timers_profile').ifNotExists().on('timers').column('profile_id').execute();

      await db.schema
        .createTable('audit_log')
        .ifNotExists()
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('at', 'integer', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('change', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_at').ifNotExists().on('audit_log').column('at').execute();

      await db.schema
        .createTable('controls')
        .ifNotExists()
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .modifyEnd(sql`without rowid`)
        .execute();
    },
  },

  '0004_privacy': {
    async up(db: Kysely<unknown>): Promise<void> {
      // What is left of an erased customer: one keyed hash per identifier (and per profile id), so late events
      // naming them are dropped instead of starting a new profile. The hash is HMAC-SHA256 keyed with the salt
      // below, so the table cannot be matched against a list of emails without the database itself.
      await db.schema
        .createTable('tombstones')
        .ifNotExists()
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('erased_at', 'integer', (c) => c.notNull())
        .modifyEnd(sql`without rowid`)
        .execute();
      // One row, written by the first erasure (random per database; never rotated, or old tombstones would
      // stop matching).
      await db.schema
        .createTable('privacy_salt')
        .ifNotExists()
        .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn('salt', 'blob', (c) => c.notNull())
        .execute();
    },
  },
};
