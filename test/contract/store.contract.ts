import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  emptyProfile,
  INTERNAL_SOURCE,
  SEGMENT_ENTERED,
  type AuditEntry,
  type Channel,
  type Decision,
  type Delivery,
  type IdentityKey,
  type Json,
  type MergeRecord,
  type Outcome,
  type Profile,
  type Timer,
} from '../../src/domain/index.js';
import type {
  ContactRecord,
  DeadLetterInput,
  EventToAppend,
  Store,
  TimelineItem,
} from '../../src/store/store.js';

/**
 * The behaviour every `Store` adapter must show, written once and run against each (SQLite now, PostgreSQL
 * later). Nothing here may depend on one engine: adapter-specific checks live next to the adapter's run.
 */
export interface StoreHarness {
  /** A store on a fresh, empty database (migrated or not: the suite calls `migrate()`). */
  store: Store;
  /** Closes the store last returned and opens the same database again, as a restart would. */
  reopen: () => Promise<Store>;
  /** Closes whatever is open and deletes the database. */
  cleanup: () => Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let counter = 0;
const nextId = (prefix: string) => `${prefix}-${++counter}`;

const ev = (over: Partial<EventToAppend> = {}): EventToAppend => ({
  messageId: nextId('m'),
  source: 'web',
  type: 'track',
  event: 'Clicked',
  timestamp: T0,
  receivedAt: T0,
  properties: {},
  traits: {},
  context: {},
  profileId: 'p1',
  ...over,
});

const profile = (id: string, over: Partial<Profile> = {}): Profile => ({ ...emptyProfile(id, T0), ...over });
const key = (kind: string, value: string): IdentityKey => ({ kind, value });
const byKey = (keys: IdentityKey[]) =>
  [...keys].sort((a, b) => `${a.kind}:${a.value}`.localeCompare(`${b.kind}:${b.value}`));

const merge = (
  m: Pick<MergeRecord, 'id' | 'intoProfileId' | 'fromProfileId'> & Partial<MergeRecord>,
): MergeRecord => ({
  at: T0,
  cause: 'identify',
  outcome: 'merged',
  messageId: 'm-merge',
  source: 'web',
  reason: 'userId links both profiles',
  fromSnapshot: null,
  ...m,
});

const dead = (over: Partial<DeadLetterInput> = {}): DeadLetterInput => ({
  source: 'web',
  receivedAt: T0,
  code: 'PW_ERR_INGEST_INVALID',
  reason: 'userId: required when anonymousId is absent',
  payload: '{"type":"track"}',
  ...over,
});

/** A decision with every optional part filled in, and numbers that do not survive a float32 or text detour. */
const decision = (over: Partial<Decision> = {}): Decision => ({
  id: nextId('d'),
  profileId: 'p1',
  at: T0,
  signal: {
    kind: 'event',
    event: 'Viewed Cart',
    messageId: nextId('m'),
    properties: { total: 12.5, sku: 'é-1' },
  },
  actionId: 'email-reminder',
  channel: 'email',
  sendAt: T0 + HOUR,
  propensity: 0.1 + 0.2,
  mode: 'explore',
  holdout: false,
  modelVersion: 12,
  features: { idx: [0, 17, 262_143], val: [1, 1 / 3, -2.5e-300] },
  explanation: {
    mode: 'explore',
    candidates: [
      {
        actionId: 'email-reminder',
        channel: 'email',
        score: {
          model: 'logistic',
          probability: 0.0421,
          uncertainty: 0.013,
          observations: 1532,
          value: 40,
          weight: 1,
          cost: 0.05,
          expectedValue: 1.634,
          probabilityChosen: 0.30000000000000004,
        },
      },
      {
        actionId: 'sms-nudge',
        channel: 'sms',
        removed: { stage: 'policy', rule: 'policy.frequencyCaps[0]', reason: '2 messages in 24 h (cap 2)' },
      },
    ],
    nothing: {
      model: 'beta',
      probability: 0.03,
      uncertainty: 0.02,
      observations: 40,
      value: 40,
      weight: 1,
      cost: 0,
      expectedValue: 1.2,
      probabilityChosen: 0.7,
    },
    chosen: 'email-reminder',
    propensity: 0.1 + 0.2,
    modelVersion: 12,
    summary: 'Explored email-reminder (30% chance) over doing nothing.',
  },
  attributionEndsAt: T0 + 7 * DAY,
  ...over,
});

/** A pending delivery due at T0 + 1 h, optional fields absent. Its id is also its decision's. */
const delivery = (over: Partial<Delivery> = {}): Delivery => {
  const id = over.id ?? nextId('dl');
  return {
    id,
    decisionId: id,
    profileId: 'p1',
    actionId: 'a1',
    channel: 'email',
    idempotencyKey: `idem-${id}`,
    sendAt: T0 + HOUR,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: T0 + HOUR,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
};

const timer = (over: Partial<Timer> = {}): Timer => ({
  id: nextId('t'),
  kind: 'decide',
  profileId: 'p1',
  dueAt: T0,
  payload: { signal: { kind: 'event', event: 'Viewed Cart' }, total: 12.5 },
  ...over,
});

const audit = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  id: nextId('audit'),
  at: T0,
  actor: 'ops-key',
  change: 'action.pause',
  target: 'a1',
  detail: { reason: 'typo in the template', previous: { paused: false } },
  ...over,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A short label per timeline item, to compare orders readably. */
const label = (item: TimelineItem): string => {
  switch (item.kind) {
    case 'event':
      return item.event.messageId;
    case 'merge':
      return `merge:${item.merge.id}`;
    case 'decision':
      return `decision:${item.decision.id}`;
    default:
      return item satisfies never;
  }
};

export function storeContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}`, () => {
    let h: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      h = await factory();
      store = h.store;
      await store.migrate();
    });
    afterEach(async () => h.cleanup());

    const reopen = async (): Promise<Store> => {
      store = await h.reopen();
      await store.migrate();
      return store;
    };

    const fullTimeline = async (profileId: string, limit = 1000): Promise<TimelineItem[]> => {
      const items: TimelineItem[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.read.timeline(
          profileId,
          cursor === undefined ? { limit } : { cursor, limit },
        );
        items.push(...page.items);
        cursor = page.next;
      } while (cursor !== undefined);
      return items;
    };

    describe('migrate', () => {
      it('is safe to run again on a migrated database', async () => {
        await store.migrate();
        await store.migrate();
        await store.write((w) => w.appendEvent(ev()));
        expect(await store.read.countEvents()).toBe(1);
      });
    });

    describe('event log', () => {
      it('appendEvent returns increasing sequence numbers, across transactions', async () => {
        const first = await store.write(async (w) => [await w.appendEvent(ev()), await w.appendEvent(ev())]);
        const second = await store.write(async (w) => [await w.appendEvent(ev()), await w.appendEvent(ev())]);
        const seqs = [...first, ...second];
        for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] as number);
      });

      it('hasMessage sees appends made earlier in the same transaction, per source', async () => {
        await store.write(async (w) => {
          expect(await w.hasMessage('web', 'dup-1')).toBe(false);
          await w.appendEvent(ev({ messageId: 'dup-1' }));
          expect(await w.hasMessage('web', 'dup-1')).toBe(true);
          expect(await w.hasMessage('app', 'dup-1')).toBe(false);
        });
        expect(await store.write((w) => w.hasMessage('web', 'dup-1'))).toBe(true);
      });

      it('round-trips every field of a stored event, violations included', async () => {
        const input = ev({
          type: 'identify',
          event: 'Signed Up ✓',
          userId: 'u-1',
          anonymousId: 'anon-1',
          previousId: 'prev-1',
          groupId: 'acme',
          timestamp: T0 + 1,
          originalTimestamp: T0 - 5,
          sentAt: T0 - 2,
          receivedAt: T0 + 3,
          properties: { total: 12.5, items: [{ sku: 'a', qty: 2 }], gift: false, note: null },
          traits: { email: 'ada@example.com', name: 'Ada Łovelace' },
          context: { ip: '203.0.113.9', traits: { plan: 'pro' } },
          profileId: 'p-round',
          violations: ['properties.total: expected integer'],
        });
        const seq = await store.write((w) => w.appendEvent(input));
        const [item] = (await store.read.timeline('p-round', { limit: 10 })).items;
        expect(item).toStrictEqual({ kind: 'event', at: input.timestamp, seq, event: { ...input, seq } });
      });

      it('leaves optional fields absent when they were not set', async () => {
        const input: EventToAppend = {
          messageId: 'minimal',
          source: 'web',
          type: 'page',
          timestamp: T0,
          receivedAt: T0,
          properties: {},
          traits: {},
          context: {},
          profileId: 'p-min',
        };
        const seq = await store.write((w) => w.appendEvent(input));
        const [item] = (await store.read.timeline('p-min', { limit: 10 })).items;
        expect(item?.kind === 'event' && item.event).toStrictEqual({ ...input, seq });
      });

      it('refuses a duplicate (source, messageId) and rolls the whole transaction back', async () => {
        await store.write((w) => w.appendEvent(ev({ messageId: 'once' })));
        await expect(
          store.write(async (w) => {
            await w.appendEvent(ev({ messageId: 'innocent' }));
            await w.appendEvent(ev({ messageId: 'once' }));
          }),
        ).rejects.toThrow();
        await expect(
          store.write(async (w) => {
            await w.appendEvent(ev({ messageId: 'twice' }));
            await w.appendEvent(ev({ messageId: 'twice' }));
          }),
        ).rejects.toThrow();
        expect(await store.read.countEvents()).toBe(1);
        expect(await store.write((w) => w.hasMessage('web', 'innocent'))).toBe(false);
        expect(await store.write((w) => w.hasMessage('web', 'twice'))).toBe(false);
      });

      it('countEvents counts every row of the log, internal events included', async () => {
        expect(await store.read.countEvents()).toBe(0);
        await store.write(async (w) => {
          await w.appendEvent(ev());
          await w.appendEvent(ev({ source: INTERNAL_SOURCE, event: SEGMENT_ENTERED }));
          await w.appendEvent(ev({ profileId: 'p2' }));
        });
        expect(await store.read.countEvents()).toBe(3);
      });
    });

    describe('identities', () => {
      it('findProfileIds returns only known keys, keyed kind:value', async () => {
        await store.write(async (w) => {
          expect(await w.findProfileIds([])).toEqual(new Map());
          await w.linkIdentities('p1', [key('userId', 'u1'), key('email', 'ada@example.com')], T0);
          await w.linkIdentities('p2', [key('anonymousId', 'u1')], T0);
          const found = await w.findProfileIds([
            key('userId', 'u1'),
            key('anonymousId', 'u1'),
            key('userId', 'nobody'),
          ]);
          expect(found).toEqual(
            new Map([
              ['userId:u1', 'p1'],
              ['anonymousId:u1', 'p2'],
            ]),
          );
        });
      });

      it('linkIdentities creates links and re-points existing ones', async () => {
        await store.write(async (w) => {
          await w.linkIdentities('p1', [key('userId', 'u1'), key('email', 'shared@example.com')], T0);
          await w.linkIdentities('p2', [key('email', 'shared@example.com')], T0 + 1);
          expect(byKey(await w.identitiesOf('p1'))).toEqual([key('userId', 'u1')]);
          expect(await w.identitiesOf('p2')).toEqual([key('email', 'shared@example.com')]);
        });
        expect(await store.write((w) => w.findProfileIds([key('email', 'shared@example.com')]))).toEqual(
          new Map([['email:shared@example.com', 'p2']]),
        );
        expect(await store.read.identitiesOf('p1')).toEqual([key('userId', 'u1')]);
        expect(await store.read.identitiesOf('p2')).toEqual([key('email', 'shared@example.com')]);
        expect(await store.read.identitiesOf('nobody')).toEqual([]);
      });
    });

    describe('profiles', () => {
      const full = profile('p1', {
        traits: { name: 'Ada', plan: 'pro', address: { city: 'London' }, tags: ['a', 'b'] },
        traitTimes: { name: T0, plan: T0 + 5, address: T0, tags: T0 },
        computed: {
          orders: { kind: 'count', total: 3, buckets: { '2026-01-01': 3 } },
          revenue: { kind: 'sum', sum: 99.5, n: 3 },
          lastSeenPage: { kind: 'last', at: T0, value: '/pricing' },
          fav: { kind: 'mostFrequent', counts: { shoes: 2, hats: 1 } },
        },
        segments: ['buyers'],
        firstSeen: T0 - 10,
        lastSeen: T0 + 10,
        updatedAt: T0 + 10,
        version: 3,
      });

      it('getProfile is undefined for an unknown id', async () => {
        expect(await store.write((w) => w.getProfile('nobody'))).toBeUndefined();
        expect(await store.read.getProfile('nobody')).toBeUndefined();
      });

      it('saveProfile inserts, then replaces; every field round-trips', async () => {
        await store.write(async (w) => {
          await w.saveProfile(full);
          expect(await w.getProfile('p1')).toStrictEqual(full);
        });
        expect(await store.read.getProfile('p1')).toStrictEqual(full);
        const changed = { ...full, traits: { name: 'Ada L.' }, traitTimes: { name: T0 + 20 }, version: 4 };
        await store.write((w) => w.saveProfile(changed));
        expect(await store.read.getProfile('p1')).toStrictEqual(changed);
      });

      it('saveProfile keeps segment membership in step with profile.segments', async () => {
        const members = async (segment: string) =>
          (await store.read.profilesInSegment(segment, { limit: 10 })).items;
        await store.write((w) => w.saveProfile(profile('p1', { segments: ['a', 'b'] })));
        await store.write((w) => w.saveProfile(profile('p2', { segments: ['b'] })));
        expect(await members('a')).toEqual(['p1']);
        expect(await members('b')).toEqual(['p1', 'p2']);
        await store.write((w) => w.saveProfile(profile('p1', { segments: ['b', 'c'], version: 1 })));
        expect(await members('a')).toEqual([]);
        expect(await members('b')).toEqual(['p1', 'p2']);
        expect(await members('c')).toEqual(['p1']);
        await store.write((w) => w.saveProfile(profile('p1', { segments: [], version: 2 })));
        expect(await members('b')).toEqual(['p2']);
        expect(await members('c')).toEqual([]);
      });
    });

    describe('profilesInSegment', () => {
      it('pages in id order with an opaque, URL-safe cursor; no next on the last page', async () => {
        const ids = ['p-05', 'p-02', 'p-07', 'p-01', 'p-04', 'p-06', 'p-03'];
        await store.write(async (w) => {
          for (const id of ids) await w.saveProfile(profile(id, { segments: ['vip'] }));
          await w.saveProfile(profile('p-00', { segments: ['other'] }));
        });
        const pages: string[][] = [];
        let cursor: string | undefined;
        do {
          const page = await store.read.profilesInSegment(
            'vip',
            cursor === undefined ? { limit: 3 } : { cursor, limit: 3 },
          );
          pages.push(page.items);
          if (page.next !== undefined) expect(page.next).toMatch(/^[A-Za-z0-9_-]+$/);
          cursor = page.next;
        } while (cursor !== undefined);
        expect(pages).toEqual([['p-01', 'p-02', 'p-03'], ['p-04', 'p-05', 'p-06'], ['p-07']]);
      });

      it('an exactly full last page has no next; an empty segment is one empty page', async () => {
        await store.write(async (w) => {
          for (const id of ['a1', 'a2']) await w.saveProfile(profile(id, { segments: ['s'] }));
        });
        expect(await store.read.profilesInSegment('s', { limit: 2 })).toEqual({ items: ['a1', 'a2'] });
        expect(await store.read.profilesInSegment('empty', { limit: 5 })).toEqual({ items: [] });
      });
    });

    describe('profileIds', () => {
      it('pages every live profile in id order, skipping folded ones', async () => {
        await store.write(async (w) => {
          for (const id of ['q3', 'q1', 'q4', 'q2', 'q5']) await w.saveProfile(profile(id));
          await w.foldProfile('q4', 'q2', T0);
        });
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.read.profileIds(
            cursor === undefined ? { limit: 2 } : { cursor, limit: 2 },
          );
          seen.push(...page.items);
          cursor = page.next;
        } while (cursor !== undefined);
        expect(seen).toEqual(['q1', 'q2', 'q3', 'q5']);
      });
    });

    describe('foldProfile', () => {
      const setUp = () =>
        store.write(async (w) => {
          await w.saveProfile(profile('p1', { segments: ['vip'], version: 1 }));
          await w.saveProfile(profile('p2', { segments: ['vip', 'new'] }));
          await w.linkIdentities('p1', [key('userId', 'u1'), key('anonymousId', 'a1')], T0);
          await w.linkIdentities('p2', [key('anonymousId', 'a2'), key('email', 'x@example.com')], T0);
          await w.appendEvent(ev({ messageId: 'e1', profileId: 'p1' }));
          await w.appendEvent(ev({ messageId: 'e2', profileId: 'p2' }));
        });

      it('moves identities and events to the survivor and leaves the folded id as a pointer', async () => {
        await setUp();
        await store.write(async (w) => {
          await w.foldProfile('p2', 'p1', T0 + 100);
          expect(await w.getProfile('p2')).toBeUndefined();
          expect(await w.findProfileIds([key('anonymousId', 'a2')])).toEqual(
            new Map([['anonymousId:a2', 'p1']]),
          );
        });
        expect(byKey(await store.read.identitiesOf('p1'))).toEqual(
          byKey([
            key('userId', 'u1'),
            key('anonymousId', 'a1'),
            key('anonymousId', 'a2'),
            key('email', 'x@example.com'),
          ]),
        );
        expect(await store.read.identitiesOf('p2')).toEqual([]);
        const events = (await fullTimeline('p1')).filter((i) => i.kind === 'event');
        expect(
          events.map((i) => i.kind === 'event' && [i.event.messageId, i.event.profileId]).sort(),
        ).toEqual([
          ['e1', 'p1'],
          ['e2', 'p1'],
        ]);
        expect(await fullTimeline('p2')).toEqual([]);
        expect(await store.read.getProfile('p2')).toBeUndefined();
        expect(await store.read.resolveProfileId('p2')).toBe('p1');
        // The survivor's row is the caller's to save: folding leaves it as it was.
        expect(await store.read.getProfile('p1')).toStrictEqual(
          profile('p1', { segments: ['vip'], version: 1 }),
        );
        expect((await store.read.profilesInSegment('vip', { limit: 10 })).items).toEqual(['p1']);
        expect((await store.read.profilesInSegment('new', { limit: 10 })).items).toEqual([]);
      });

      it('follows chains of merges', async () => {
        await setUp();
        await store.write(async (w) => {
          await w.saveProfile(profile('p3'));
          await w.foldProfile('p2', 'p1', T0 + 100);
          await w.foldProfile('p1', 'p3', T0 + 200);
        });
        expect(await store.read.resolveProfileId('p2')).toBe('p3');
        expect(await store.read.resolveProfileId('p1')).toBe('p3');
        expect(await store.read.resolveProfileId('anonymousId:a2')).toBe('p3');
        expect(await store.read.getProfile('p1')).toBeUndefined();
        expect((await fullTimeline('p3')).length).toBe(2);
      });

      it('folds a profile known only by its identities (never saved)', async () => {
        await store.write(async (w) => {
          await w.saveProfile(profile('p1'));
          await w.linkIdentities('ghost', [key('anonymousId', 'g1')], T0);
          await w.foldProfile('ghost', 'p1', T0 + 1);
        });
        expect(await store.read.resolveProfileId('ghost')).toBe('p1');
        expect(await store.read.resolveProfileId('anonymousId:g1')).toBe('p1');
        expect(await store.read.getProfile('ghost')).toBeUndefined();
      });
    });

    describe('merges', () => {
      it('recordMerge keeps the record, snapshot included; merges(id) lists both sides', async () => {
        const snapshot = {
          profile: profile('p2', { traits: { name: 'Old' } }),
          identities: [key('anonymousId', 'a2')],
        };
        const m1 = merge({
          id: 'm1',
          intoProfileId: 'p1',
          fromProfileId: 'p2',
          at: T0 + 1,
          fromSnapshot: snapshot,
        });
        const m2 = merge({
          id: 'm2',
          intoProfileId: 'p3',
          fromProfileId: 'p1',
          at: T0 + 2,
          cause: 'alias',
          outcome: 'refused',
          reason: 'conflicting userIds',
          fromSnapshot: null,
        });
        const m3 = merge({ id: 'm3', intoProfileId: 'p4', fromProfileId: 'p5', cause: 'identifier-trait' });
        await store.write(async (w) => {
          for (const m of [m1, m2, m3]) await w.recordMerge(m);
        });
        const ofP1 = [...(await store.read.merges('p1'))].sort((a, b) => a.id.localeCompare(b.id));
        expect(ofP1).toStrictEqual([m1, m2]);
        expect(await store.read.merges('p5')).toStrictEqual([m3]);
        expect(await store.read.merges('nobody')).toEqual([]);
      });
    });

    describe('timeline', () => {
      // Expected order, newest first: by `at`, then by append order among equal times.
      const expected = ['e4', 'merge:m2', 'e3', 'e2', 'merge:m1', 'e1', 'e5'];

      const setUp = () =>
        store.write(async (w) => {
          await w.appendEvent(ev({ messageId: 'e1', profileId: 'P', timestamp: T0 + 1000 }));
          await w.appendEvent(ev({ messageId: 'e2', profileId: 'P', timestamp: T0 + 2000 }));
          await w.appendEvent(ev({ messageId: 'e3', profileId: 'P', timestamp: T0 + 2000 }));
          await w.appendEvent(
            ev({
              messageId: 'e4',
              profileId: 'P',
              timestamp: T0 + 3000,
              source: INTERNAL_SOURCE,
              event: SEGMENT_ENTERED,
            }),
          );
          // A late event: appended last, but older than all the others.
          await w.appendEvent(ev({ messageId: 'e5', profileId: 'P', timestamp: T0 + 500 }));
          await w.appendEvent(ev({ messageId: 'other', profileId: 'Q', timestamp: T0 + 1200 }));
          await w.recordMerge(merge({ id: 'm1', intoProfileId: 'P', fromProfileId: 'X', at: T0 + 1500 }));
          await w.recordMerge(
            merge({ id: 'm2', intoProfileId: 'P', fromProfileId: 'Y', at: T0 + 2500, fromSnapshot: null }),
          );
          // P is not the survivor here: not on P's timeline.
          await w.recordMerge(
            merge({ id: 'm3', intoProfileId: 'Q', fromProfileId: 'P', outcome: 'refused', at: T0 + 1800 }),
          );
        });

      it('lists events (internal ones too) and merges into the profile, newest first', async () => {
        await setUp();
        const items = await fullTimeline('P');
        expect(items.map(label)).toEqual(expected);
        for (const item of items) {
          if (item.kind === 'merge') {
            expect(item.at).toBe(item.merge.at);
            expect(item.merge).not.toHaveProperty('fromSnapshot');
          } else if (item.kind === 'event') {
            expect(item.at).toBe(item.event.timestamp);
            expect(item.seq).toBe(item.event.seq);
          }
        }
        expect(await store.read.timeline('nobody', { limit: 5 })).toEqual({ items: [] });
      });

      it('pages without duplicates or gaps, whatever the page size', async () => {
        await setUp();
        for (const limit of [1, 2, 3, 7, 8]) {
          const items = await fullTimeline('P', limit);
          expect(items.map(label)).toEqual(expected);
        }
        const first = await store.read.timeline('P', { limit: 7 });
        expect(first.next).toBeUndefined();
      });

      it('stays stable when new items arrive between pages', async () => {
        await setUp();
        const page1 = await store.read.timeline('P', { limit: 3 });
        await store.write(async (w) => {
          await w.appendEvent(ev({ messageId: 'newer', profileId: 'P', timestamp: T0 + 9000 }));
          await w.recordMerge(merge({ id: 'm9', intoProfileId: 'P', fromProfileId: 'Z', at: T0 + 9000 }));
        });
        const rest: TimelineItem[] = [];
        let cursor = page1.next;
        while (cursor !== undefined) {
          const page = await store.read.timeline('P', { cursor, limit: 3 });
          rest.push(...page.items);
          cursor = page.next;
        }
        expect([...page1.items, ...rest].map(label)).toEqual(expected);
      });

      it('shows merges into profiles that were later folded into this one', async () => {
        await store.write(async (w) => {
          await w.saveProfile(profile('B'));
          await w.saveProfile(profile('C'));
          await w.recordMerge(merge({ id: 'a-into-b', intoProfileId: 'B', fromProfileId: 'A', at: T0 + 1 }));
          await w.foldProfile('A', 'B', T0 + 1);
          await w.recordMerge(merge({ id: 'b-into-c', intoProfileId: 'C', fromProfileId: 'B', at: T0 + 2 }));
          await w.foldProfile('B', 'C', T0 + 2);
        });
        expect((await fullTimeline('C')).map(label)).toEqual(['merge:b-into-c', 'merge:a-into-b']);
      });

      it('pages through an event and a merge at the same time without losing either', async () => {
        await store.write(async (w) => {
          await w.appendEvent(ev({ messageId: 'same-time', profileId: 'P', timestamp: T0 }));
          await w.recordMerge(merge({ id: 'same-time', intoProfileId: 'P', fromProfileId: 'X', at: T0 }));
        });
        const items = await fullTimeline('P', 1);
        expect(items.map(label).sort()).toEqual(['merge:same-time', 'same-time']);
      });

      it('rejects a cursor it did not issue', async () => {
        await setUp();
        await expect(store.read.timeline('P', { cursor: 'not-a-cursor', limit: 2 })).rejects.toThrow();
      });
    });

    describe('deadLetters', () => {
      const entries = [
        dead({ source: 'web', receivedAt: T0 + 1, field: 'batch[3].userId', messageId: 'bad-1' }),
        dead({ source: 'app', receivedAt: T0 + 2 }),
        dead({ source: 'web', receivedAt: T0 + 3, code: 'PW_ERR_INGEST_TRACKING_PLAN' }),
        dead({ source: 'app', receivedAt: T0 + 4, messageId: 'bad-4' }),
        dead({ source: 'web', receivedAt: T0 + 5, payload: 'not json at all' }),
      ];
      const collect = async (opts: { limit: number; source?: string }) => {
        const pages: DeadLetterInput[][] = [];
        let cursor: string | undefined;
        do {
          const page = await store.read.deadLetters(cursor === undefined ? opts : { ...opts, cursor });
          pages.push(page.items.map(({ id: _id, ...rest }) => rest));
          cursor = page.next;
        } while (cursor !== undefined);
        return pages;
      };

      it('pages newest first, optional fields absent when not set', async () => {
        await store.write(async (w) => {
          for (const e of entries) await w.addDeadLetter(e);
        });
        const [e1, e2, e3, e4, e5] = entries;
        expect(await collect({ limit: 2 })).toStrictEqual([[e5, e4], [e3, e2], [e1]]);
        const { items } = await store.read.deadLetters({ limit: 10 });
        expect(new Set(items.map((d) => d.id)).size).toBe(5);
      });

      it('filters by source', async () => {
        await store.write(async (w) => {
          for (const e of entries) await w.addDeadLetter(e);
        });
        const [e1, e2, e3, e4, e5] = entries;
        expect(await collect({ limit: 2, source: 'web' })).toStrictEqual([[e5, e3], [e1]]);
        expect(await collect({ limit: 5, source: 'app' })).toStrictEqual([[e4, e2]]);
        expect(await store.read.deadLetters({ limit: 5, source: 'nobody' })).toEqual({ items: [] });
      });
    });

    describe('resolveProfileId', () => {
      const setUp = () =>
        store.write(async (w) => {
          for (const id of ['p1', 'p2', 'p3']) await w.saveProfile(profile(id));
          await w.linkIdentities('p1', [key('userId', 'u1'), key('email', 'ada@example.com')], T0);
          // The same bare value under two kinds: the userId wins, even though it was linked later.
          await w.linkIdentities('p2', [key('anonymousId', 'same')], T0);
          await w.linkIdentities('p1', [key('userId', 'same')], T0 + 1);
          await w.linkIdentities('p3', [key('userId', 'auth0:123')], T0);
        });

      it('accepts a profile id, kind:value, or a bare value (userId first)', async () => {
        await setUp();
        const r = (identifier: string) => store.read.resolveProfileId(identifier);
        expect(await r('p2')).toBe('p2');
        expect(await r('userId:u1')).toBe('p1');
        expect(await r('email:ada@example.com')).toBe('p1');
        expect(await r('u1')).toBe('p1');
        expect(await r('ada@example.com')).toBe('p1');
        expect(await r('same')).toBe('p1');
        expect(await r('anonymousId:same')).toBe('p2');
        // A bare userId that contains a colon.
        expect(await r('auth0:123')).toBe('p3');
      });

      it('is undefined for unknown identifiers', async () => {
        await setUp();
        expect(await store.read.resolveProfileId('nobody')).toBeUndefined();
        expect(await store.read.resolveProfileId('userId:nobody')).toBeUndefined();
        expect(await store.read.resolveProfileId('')).toBeUndefined();
      });

      it('follows a merged profile id to the survivor', async () => {
        await setUp();
        await store.write((w) => w.foldProfile('p2', 'p1', T0 + 5));
        expect(await store.read.resolveProfileId('p2')).toBe('p1');
        expect(await store.read.resolveProfileId('anonymousId:same')).toBe('p1');
      });
    });

    describe('write transactions', () => {
      it('returns what the callback returns', async () => {
        expect(await store.write(async () => 42)).toBe(42);
      });

      it('rolls back everything on throw and rethrows the same error', async () => {
        await store.write(async (w) => {
          await w.saveProfile(profile('p1', { segments: ['s0'] }));
          await w.linkIdentities('p1', [key('userId', 'u1')], T0);
          await w.appendEvent(ev({ messageId: 'kept', profileId: 'p1' }));
        });
        const boom = new Error('boom');
        await expect(
          store.write(async (w) => {
            await w.appendEvent(ev({ messageId: 'lost', profileId: 'p1' }));
            await w.saveProfile(profile('p1', { segments: ['s1'], version: 9 }));
            await w.saveProfile(profile('p2', { segments: ['s1'] }));
            await w.linkIdentities('p2', [key('email', 'lost@example.com'), key('userId', 'u1')], T0);
            await w.recordMerge(merge({ id: 'lost-merge', intoProfileId: 'p2', fromProfileId: 'p1' }));
            await w.foldProfile('p1', 'p2', T0);
            await w.addDeadLetter(dead());
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.read.countEvents()).toBe(1);
        expect(await store.write((w) => w.hasMessage('web', 'lost'))).toBe(false);
        expect(await store.read.getProfile('p1')).toStrictEqual(profile('p1', { segments: ['s0'] }));
        expect(await store.read.getProfile('p2')).toBeUndefined();
        expect(await store.read.resolveProfileId('p1')).toBe('p1');
        expect(await store.read.resolveProfileId('userId:u1')).toBe('p1');
        expect(await store.read.resolveProfileId('email:lost@example.com')).toBeUndefined();
        expect(await store.read.merges('p1')).toEqual([]);
        expect(await store.read.deadLetters({ limit: 5 })).toEqual({ items: [] });
        expect((await store.read.profilesInSegment('s0', { limit: 5 })).items).toEqual(['p1']);
        expect((await store.read.profilesInSegment('s1', { limit: 5 })).items).toEqual([]);
      });

      it('runs concurrent callers one after the other, never interleaved', async () => {
        const log: string[] = [];
        const a = store.write(async (w) => {
          log.push('a:start');
          await sleep(30);
          await w.appendEvent(ev({ messageId: 'from-a' }));
          await sleep(5);
          log.push('a:end');
          return 'a';
        });
        const b = store.write(async (w) => {
          log.push('b:start');
          const sawA = await w.hasMessage('web', 'from-a');
          await w.appendEvent(ev({ messageId: 'from-b' }));
          log.push('b:end');
          return sawA;
        });
        expect(await Promise.all([a, b])).toEqual(['a', true]);
        expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end']);
      });

      it('keeps serving writes after one fails', async () => {
        const failing = store.write(async (w) => {
          await w.appendEvent(ev({ messageId: 'f' }));
          throw new Error('fails');
        });
        const next = store.write((w) => w.appendEvent(ev({ messageId: 'g' })));
        await expect(failing).rejects.toThrow('fails');
        await expect(next).resolves.toBeTypeOf('number');
        expect(await store.read.countEvents()).toBe(1);
      });

      it('reads issued while a write is in progress see only committed data', async () => {
        let reached!: () => void;
        let release!: () => void;
        const atGate = new Promise<void>((r) => (reached = r));
        const gate = new Promise<void>((r) => (release = r));
        const pending = store.write(async (w) => {
          await w.appendEvent(ev({ messageId: 'pending', profileId: 'p1' }));
          await w.saveProfile(profile('p1', { segments: ['s'] }));
          await w.linkIdentities('p1', [key('userId', 'u1')], T0);
          reached();
          await gate;
        });
        await atGate;
        try {
          expect(await store.read.countEvents()).toBe(0);
          expect(await store.read.getProfile('p1')).toBeUndefined();
          expect(await store.read.resolveProfileId('userId:u1')).toBeUndefined();
          expect(await store.read.timeline('p1', { limit: 5 })).toEqual({ items: [] });
          expect((await store.read.profilesInSegment('s', { limit: 5 })).items).toEqual([]);
        } finally {
          // Even when an expectation failed: a write left hanging would hold the store open.
          release();
          await pending;
        }
        expect(await store.read.countEvents()).toBe(1);
        expect(await store.read.resolveProfileId('u1')).toBe('p1');
      });
    });

    describe('decisions', () => {
      const recordOutcome = (d: Decision, over: Partial<Outcome> = {}): Outcome => ({
        decisionId: d.id,
        at: d.at + HOUR,
        kind: 'goal',
        reward: 1,
        value: 25,
        cause: nextId('goal-msg'),
        ...over,
      });
      const save = (...ds: Decision[]) =>
        store.write(async (w) => {
          for (const d of ds) await w.saveDecision(d);
        });
      const resolve = (id: string, at = T0 + DAY, reward = 1) =>
        store.write((w) => w.resolveDecision(id, { reward, value: 10 * reward, at, kind: 'goal' }));

      it('getDecision round-trips every field, explanation and features exactly, in and out of the write', async () => {
        const d = decision({ id: 'd-full' });
        const nothing = decision({
          id: 'd-nothing',
          actionId: null,
          channel: null,
          sendAt: null,
          mode: 'holdout',
          holdout: true,
          signal: { kind: 'redecide', after: 'd-full', exclude: ['email-reminder'] },
          features: { idx: [], val: [] },
        });
        await store.write(async (w) => {
          await w.saveDecision(d);
          await w.saveDecision(nothing);
          expect(await w.getDecision('d-full')).toStrictEqual({ ...d, outcomes: [] });
        });
        expect(await store.read.getDecision('d-full')).toStrictEqual({ ...d, outcomes: [] });
        expect(await store.read.getDecision('d-nothing')).toStrictEqual({ ...nothing, outcomes: [] });
        expect(await store.read.getDecision('nobody')).toBeUndefined();
        expect(await store.write((w) => w.getDecision('nobody'))).toBeUndefined();
      });

      it('refuses a second decision with the same id, in the same transaction or a later one', async () => {
        const d = decision({ id: 'd-once' });
        await save(d);
        await expect(save(decision({ id: 'd-once', at: T0 + 5 }))).rejects.toMatchObject({
          code: 'PW_ERR_STORE_CONFLICT',
        });
        await expect(save(decision({ id: 'd-twice' }), decision({ id: 'd-twice' }))).rejects.toMatchObject({
          code: 'PW_ERR_STORE_CONFLICT',
        });
        expect(await store.read.getDecision('d-once')).toStrictEqual({ ...d, outcomes: [] });
        expect(await store.read.getDecision('d-twice')).toBeUndefined();
      });

      it('decisionsSince lists the decisions of the profile since a time, oldest first, marking resolved ones', async () => {
        const old = decision({ id: 'old', at: T0 - DAY });
        const a = decision({ id: 'a', at: T0 + 2 });
        const b = decision({ id: 'b', at: T0 });
        const done = decision({ id: 'done', at: T0 + 1 });
        const other = decision({ id: 'other', profileId: 'p2', at: T0 + 1 });
        const nothing = decision({ id: 'nothing', at: T0 + 3, actionId: null, channel: null, sendAt: null });
        await save(old, a, b, done, other);
        await resolve('done');
        const listed = await store.write(async (w) => {
          // The transaction's own writes count.
          await w.saveDecision(nothing);
          return w.decisionsSince('p1', T0);
        });
        const open = (d: typeof a) => ({ ...d, resolved: false });
        expect(listed).toStrictEqual([open(b), { ...done, resolved: true }, open(a), open(nothing)]);
        expect(await store.write((w) => w.decisionsSince('p1', T0 + 3))).toStrictEqual([open(nothing)]);
        expect(await store.write((w) => w.decisionsSince('nobody', 0))).toEqual([]);
      });

      it('addOutcome records each (decisionId, cause) once and lists outcomes oldest first', async () => {
        const d = decision({ id: 'd1' });
        await save(d);
        const click = recordOutcome(d, {
          kind: 'engagement',
          reward: 0.2,
          value: 0,
          cause: 'click-1',
          at: T0 + 9,
        });
        const goal = recordOutcome(d, { cause: 'order-1', at: T0 + 5 });
        expect(await store.write((w) => w.addOutcome(click))).toBe(true);
        await store.write(async (w) => {
          expect(await w.addOutcome(goal)).toBe(true);
          // A retry, even with other values, changes nothing.
          expect(await w.addOutcome({ ...goal, value: 99 })).toBe(false);
          expect((await w.getDecision('d1'))?.outcomes).toStrictEqual([goal, click]);
        });
        expect(await store.write((w) => w.addOutcome(click))).toBe(false);
        expect((await store.read.getDecision('d1'))?.outcomes).toStrictEqual([goal, click]);
        // The same cause on another decision is another outcome.
        const d2 = decision({ id: 'd2' });
        await save(d2);
        expect(await store.write((w) => w.addOutcome({ ...goal, decisionId: 'd2' }))).toBe(true);
      });

      it('addOutcome refuses an outcome of a decision that does not exist', async () => {
        await expect(
          store.write((w) => w.addOutcome(recordOutcome(decision({ id: 'ghost' })))),
        ).rejects.toThrow();
      });

      it('resolveDecision resolves once, with strictly increasing resolvedSeqs', async () => {
        const [d1, d2, d3] = [decision({ id: 'r1' }), decision({ id: 'r2' }), decision({ id: 'r3' })];
        await save(d1, d2, d3);
        const first = await store.write(async (w) => {
          const s1 = await w.resolveDecision('r2', { reward: 1, value: 30, at: T0 + 7, kind: 'goal' });
          expect(
            await w.resolveDecision('r2', { reward: 0, value: 0, at: T0 + 8, kind: 'none' }),
          ).toBeUndefined();
          const s2 = await w.resolveDecision('r1', { reward: 0, value: 0, at: T0 + 8, kind: 'none' });
          expect((await w.getDecision('r2'))?.resolution).toStrictEqual({
            reward: 1,
            value: 30,
            at: T0 + 7,
            kind: 'goal',
            resolvedSeq: s1,
          });
          return [s1, s2];
        });
        const third = await resolve('r3');
        const seqs = [...first, third];
        expect(seqs.every((s) => typeof s === 'number')).toBe(true);
        for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] as number);
        expect(await resolve('r1')).toBeUndefined();
        expect(await resolve('nobody')).toBeUndefined();
        const stored = await store.read.getDecision('r1');
        expect(stored?.resolution).toStrictEqual({
          reward: 0,
          value: 0,
          at: T0 + 8,
          kind: 'none',
          resolvedSeq: seqs[1],
        });
        expect(await store.read.getDecision('r3')).toMatchObject({ resolution: { resolvedSeq: third } });
      });

      it('a resolution rolled back with its transaction leaves the decision open and the log without it', async () => {
        await save(decision({ id: 'kept' }), decision({ id: 'undone' }));
        const before = await resolve('kept');
        const boom = new Error('boom');
        await expect(
          store.write(async (w) => {
            await w.addOutcome(recordOutcome(decision({ id: 'undone' }), { cause: 'lost' }));
            expect(
              await w.resolveDecision('undone', { reward: 1, value: 1, at: T0, kind: 'goal' }),
            ).toBeTypeOf('number');
            throw boom;
          }),
        ).rejects.toBe(boom);
        const undone = await store.read.getDecision('undone');
        expect(undone?.resolution).toBeUndefined();
        expect(undone?.outcomes).toEqual([]);
        expect((await store.read.resolvedSince(0, 10)).map((r) => r.decisionId)).toEqual(['kept']);
        expect((await store.read.expiredDecisions(T0 + 30 * DAY, 10)).map((d) => d.id)).toEqual(['undone']);
        const after = await resolve('undone');
        expect(after).toBeGreaterThan(before as number);
        expect((await store.read.resolvedSince(0, 10)).map((r) => r.decisionId)).toEqual(['kept', 'undone']);
      });

      it('recentDecisions lists contacts since a time, newest first, with whether they got a response', async () => {
        const goal = decision({ id: 'c-goal', at: T0 + 1, actionId: 'a1', channel: 'email' });
        const engaged = decision({
          id: 'c-engaged',
          at: T0 + 2,
          actionId: 'a2',
          channel: 'push',
          sendAt: null,
        });
        const ignored = decision({ id: 'c-ignored', at: T0 + 3, actionId: 'a1', channel: 'sms' });
        const nothing = decision({
          id: 'c-nothing',
          at: T0 + 4,
          actionId: null,
          channel: null,
          sendAt: null,
        });
        const old = decision({ id: 'c-old', at: T0 - DAY });
        const other = decision({ id: 'c-other', profileId: 'p2', at: T0 + 5 });
        await save(goal, engaged, ignored, nothing, old, other);
        await store.write(async (w) => {
          await w.addOutcome(recordOutcome(goal));
          await w.addOutcome(recordOutcome(engaged, { kind: 'engagement', reward: 0.1, value: 0 }));
          await w.addOutcome(
            recordOutcome(ignored, { kind: 'none', reward: 0, value: 0, cause: 'window-ended' }),
          );
        });
        const contact = (d: Decision, responded: boolean): ContactRecord => ({
          decisionId: d.id,
          actionId: d.actionId as string,
          channel: d.channel as Channel,
          at: d.at,
          sendAt: d.sendAt,
          responded,
        });
        expect(await store.read.recentDecisions('p1', T0)).toStrictEqual([
          contact(ignored, false),
          contact(engaged, true),
          contact(goal, true),
        ]);
        expect((await store.read.recentDecisions('p1', T0 + 2)).map((c) => c.decisionId)).toEqual([
          'c-ignored',
          'c-engaged',
        ]);
        expect(await store.read.recentDecisions('nobody', 0)).toEqual([]);
      });

      it('lastGoalAt is the time of the latest goal outcome of the profile', async () => {
        const d1 = decision({ id: 'g1' });
        const d2 = decision({ id: 'g2' });
        const d3 = decision({ id: 'g3', profileId: 'p2' });
        await save(d1, d2, d3);
        expect(await store.read.lastGoalAt('p1')).toBeUndefined();
        await store.write(async (w) => {
          await w.addOutcome(recordOutcome(d1, { at: T0 + 50 }));
          await w.addOutcome(recordOutcome(d2, { at: T0 + 20 }));
          // Engagement is not a goal, however late.
          await w.addOutcome(recordOutcome(d2, { at: T0 + 90, kind: 'engagement', reward: 0.1 }));
          await w.addOutcome(recordOutcome(d3, { at: T0 + 70 }));
        });
        expect(await store.read.lastGoalAt('p1')).toBe(T0 + 50);
        expect(await store.read.lastGoalAt('p2')).toBe(T0 + 70);
        expect(await store.read.lastGoalAt('nobody')).toBeUndefined();
      });

      it('actionSendCounts counts decisions per chosen action since a time', async () => {
        await save(
          decision({ actionId: 'a1', at: T0 - 1 }),
          decision({ actionId: 'a1', at: T0 }),
          decision({ actionId: 'a1', at: T0 + 5, profileId: 'p2' }),
          decision({ actionId: 'a2', at: T0 + 1 }),
          decision({ actionId: 'a3', at: T0 - 10 }),
          decision({ actionId: null, channel: null, sendAt: null, at: T0 + 2 }),
        );
        expect(await store.read.actionSendCounts(T0)).toEqual(
          new Map([
            ['a1', 2],
            ['a2', 1],
          ]),
        );
        expect(await store.read.actionSendCounts(T0 + 100)).toEqual(new Map());
        expect((await store.read.actionSendCounts(0)).get('a3')).toBe(1);
      });

      it('expiredDecisions lists unresolved decisions past their deadline, earliest first, up to a limit', async () => {
        const ends = (id: string, attributionEndsAt: number) => decision({ id, attributionEndsAt });
        const e1 = ends('e1', T0 + 10);
        await save(ends('e3', T0 + 30), e1, ends('e-now', T0 + 40), ends('e2', T0 + 20));
        await save(ends('e-later', T0 + 41), ends('e-done', T0 + 5));
        await resolve('e-done');
        const ids = async (now: number, limit: number) =>
          (await store.read.expiredDecisions(now, limit)).map((d) => d.id);
        expect(await ids(T0 + 40, 10)).toEqual(['e1', 'e2', 'e3', 'e-now']);
        expect(await ids(T0 + 40, 2)).toEqual(['e1', 'e2']);
        expect(await ids(T0 + 9, 10)).toEqual([]);
        expect(await store.read.expiredDecisions(T0 + 10, 1)).toStrictEqual([e1]);
      });

      it('resolvedSince pages the reward log in resolvedSeq order', async () => {
        const ds = [1, 2, 3, 4, 5].map((i) =>
          decision({
            id: `log-${i}`,
            actionId: i === 3 ? null : `a${i}`,
            channel: i === 3 ? null : 'email',
            sendAt: i === 3 ? null : T0,
            holdout: i === 3,
            mode: i === 3 ? 'holdout' : 'explore',
            propensity: i / 10,
            features: { idx: [i, 100 + i], val: [1, i / 3] },
          }),
        );
        await save(...ds);
        // Resolved in another order than saved: the log follows resolution order.
        const order = [4, 1, 5, 3, 2];
        for (const i of order) await resolve(`log-${i}`, T0 + 100 * i, i % 2);
        const all = await store.read.resolvedSince(0, 100);
        expect(all.map((r) => r.decisionId)).toEqual(order.map((i) => `log-${i}`));
        const d3 = ds[2] as Decision;
        expect(all[3]).toStrictEqual({
          resolvedSeq: all[3]?.resolvedSeq,
          decisionId: 'log-3',
          actionId: null,
          features: d3.features,
          reward: 1,
          at: T0 + 300,
          holdout: true,
          mode: 'holdout',
          propensity: 0.3,
        });
        const paged: string[] = [];
        let after = 0;
        for (;;) {
          const page = await store.read.resolvedSince(after, 2);
          paged.push(...page.map((r) => r.decisionId));
          const last = page[page.length - 1];
          if (last === undefined) break;
          after = last.resolvedSeq;
        }
        expect(paged).toEqual(all.map((r) => r.decisionId));
      });

      it('latestModelSnapshot is the snapshot saved last', async () => {
        expect(await store.read.latestModelSnapshot()).toBeUndefined();
        const snap = (version: number) => ({
          version,
          at: T0 + version,
          resolvedSeq: version * 10,
          data: `{"v":${version}}`,
        });
        for (let v = 1; v <= 8; v++) await store.write((w) => w.saveModelSnapshot(snap(v)));
        expect(await store.read.latestModelSnapshot()).toStrictEqual(snap(8));
        const big = {
          ...snap(9),
          data: JSON.stringify({ w: Array.from({ length: 5000 }, (_, i) => i / 7) }),
        };
        await store.write((w) => w.saveModelSnapshot(big));
        expect(await store.read.latestModelSnapshot()).toStrictEqual(big);
      });

      describe('on the timeline', () => {
        const expected = ['e3', 'decision:d-late', 'merge:m1', 'decision:d-mid', 'e2', 'e1'];
        const setUp = async () => {
          await store.write(async (w) => {
            await w.appendEvent(ev({ messageId: 'e1', profileId: 'P', timestamp: T0 + 1000 }));
            await w.appendEvent(ev({ messageId: 'e2', profileId: 'P', timestamp: T0 + 2000 }));
            await w.appendEvent(ev({ messageId: 'e3', profileId: 'P', timestamp: T0 + 5000 }));
            await w.saveDecision(decision({ id: 'd-mid', profileId: 'P', at: T0 + 2500 }));
            await w.saveDecision(
              decision({
                id: 'd-late',
                profileId: 'P',
                at: T0 + 4000,
                actionId: null,
                channel: null,
                sendAt: null,
                mode: 'no-candidates',
              }),
            );
            await w.saveDecision(decision({ id: 'd-other', profileId: 'Q', at: T0 + 3000 }));
            await w.recordMerge(merge({ id: 'm1', intoProfileId: 'P', fromProfileId: 'X', at: T0 + 3000 }));
          });
          return resolve('d-mid', T0 + 2600);
        };

        it('interleaves decisions by time, with a summary and the resolution', async () => {
          const seq = await setUp();
          const items = await fullTimeline('P');
          expect(items.map(label)).toEqual(expected);
          const mid = items.find((i) => i.kind === 'decision' && i.decision.id === 'd-mid');
          const d = decision({ id: 'd-mid', profileId: 'P', at: T0 + 2500 });
          expect(mid).toMatchObject({
            kind: 'decision',
            at: T0 + 2500,
            decision: {
              id: 'd-mid',
              actionId: d.actionId,
              channel: d.channel,
              mode: d.mode,
              propensity: d.propensity,
              sendAt: d.sendAt,
              summary: d.explanation.summary,
              resolution: { reward: 1, value: 10, at: T0 + 2600, kind: 'goal', resolvedSeq: seq },
            },
          });
          const late = items.find((i) => i.kind === 'decision' && i.decision.id === 'd-late');
          expect(late?.kind === 'decision' && late.decision).toMatchObject({
            actionId: null,
            channel: null,
            sendAt: null,
            mode: 'no-candidates',
          });
          expect(late?.kind === 'decision' && late.decision).not.toHaveProperty('resolution');
          expect((await fullTimeline('Q')).map(label)).toEqual(['decision:d-other']);
        });

        it('pages across decisions without duplicates or gaps, whatever the page size', async () => {
          await setUp();
          for (const limit of [1, 2, 3, 5, 6, 7])
            expect((await fullTimeline('P', limit)).map(label)).toEqual(expected);
        });

        it('pages through an event, a merge and a decision at the same time without losing any', async () => {
          await store.write(async (w) => {
            await w.appendEvent(ev({ messageId: 'same', profileId: 'P', timestamp: T0 }));
            await w.recordMerge(merge({ id: 'same', intoProfileId: 'P', fromProfileId: 'X', at: T0 }));
            await w.saveDecision(decision({ id: 'same', profileId: 'P', at: T0 }));
            await w.appendEvent(ev({ messageId: 'older', profileId: 'P', timestamp: T0 - 1 }));
          });
          for (const limit of [1, 2]) {
            const items = (await fullTimeline('P', limit)).map(label);
            expect(items.slice(0, 3).sort()).toEqual(['decision:same', 'merge:same', 'same']);
            expect(items.slice(3)).toEqual(['older']);
          }
        });
      });

      it('move with their profile when it is folded into another', async () => {
        const d1 = decision({ id: 'f1', profileId: 'p1', at: T0 + 1 });
        const d2 = decision({ id: 'f2', profileId: 'p2', at: T0 + 2 });
        const d3 = decision({ id: 'f3', profileId: 'p2', at: T0 + 3 });
        const goal = recordOutcome(d2, { at: T0 + 40 });
        await store.write(async (w) => {
          await w.saveProfile(profile('p1'));
          await w.saveProfile(profile('p2'));
          for (const d of [d1, d2, d3]) await w.saveDecision(d);
          await w.addOutcome(goal);
        });
        await store.write(async (w) => {
          await w.foldProfile('p2', 'p1', T0 + 50);
          expect((await w.decisionsSince('p1', 0)).map((d) => d.id)).toEqual(['f1', 'f2', 'f3']);
          expect(await w.decisionsSince('p2', 0)).toEqual([]);
        });
        expect(await store.read.getDecision('f2')).toStrictEqual({
          ...d2,
          profileId: 'p1',
          outcomes: [goal],
        });
        expect((await store.read.recentDecisions('p1', 0)).map((c) => c.decisionId)).toEqual([
          'f3',
          'f2',
          'f1',
        ]);
        expect(await store.read.recentDecisions('p2', 0)).toEqual([]);
        expect(await store.read.lastGoalAt('p1')).toBe(T0 + 40);
        expect(await store.read.lastGoalAt('p2')).toBeUndefined();
        expect((await fullTimeline('p1')).map(label)).toEqual(['decision:f3', 'decision:f2', 'decision:f1']);
        expect(await fullTimeline('p2')).toEqual([]);
      });

      it('survive close and reopen, and resolvedSeq keeps increasing', async () => {
        const d1 = decision({ id: 'k1' });
        const d2 = decision({ id: 'k2', attributionEndsAt: T0 + 10 });
        const goal = recordOutcome(d1, { cause: 'order-9' });
        const snap = { version: 4, at: T0 + 9, resolvedSeq: 1, data: '{"w":[0.5]}' };
        const seq = await store.write(async (w) => {
          await w.saveDecision(d1);
          await w.saveDecision(d2);
          await w.addOutcome(goal);
          await w.saveModelSnapshot(snap);
          return w.resolveDecision('k1', { reward: 1, value: 25, at: T0 + HOUR, kind: 'goal' });
        });
        await reopen();
        expect(await store.read.getDecision('k1')).toStrictEqual({
          ...d1,
          outcomes: [goal],
          resolution: { reward: 1, value: 25, at: T0 + HOUR, kind: 'goal', resolvedSeq: seq },
        });
        expect(await store.read.latestModelSnapshot()).toStrictEqual(snap);
        expect(await store.read.lastGoalAt('p1')).toBe(goal.at);
        expect((await store.read.expiredDecisions(T0 + 10, 5)).map((d) => d.id)).toEqual(['k2']);
        expect(await store.write((w) => w.addOutcome(goal))).toBe(false);
        await expect(save(d1)).rejects.toMatchObject({ code: 'PW_ERR_STORE_CONFLICT' });
        expect(await resolve('k2')).toBeGreaterThan(seq as number);
      });
    });

    describe('outbox', () => {
      const ids = (items: Array<{ id: string }>) => items.map((i) => i.id);
      const add = (...ds: Delivery[]) =>
        store.write(async (w) => {
          for (const d of ds) await w.addDelivery(d);
        });
      const addTimers = (...ts: Timer[]) =>
        store.write(async (w) => {
          for (const t of ts) await w.addTimer(t);
        });

      it('getDelivery round-trips every field, optional ones absent or present, in and out of the write', async () => {
        const fresh = delivery({ id: 'd-fresh' });
        const sent = delivery({
          id: 'd-sent',
          channel: 'sms',
          status: 'sent',
          attempts: 2,
          nextAttemptAt: T0 + 2 * HOUR + 1,
          updatedAt: T0 + 2 * HOUR,
          sentAt: T0 + 2 * HOUR,
          providerId: 'ses-0001',
          reason: 'timeout, then sent',
        });
        await store.write(async (w) => {
          await w.addDelivery(fresh);
          await w.addDelivery(sent);
          expect(await w.getDelivery('d-fresh')).toStrictEqual(fresh);
          expect(await w.getDelivery('nobody')).toBeUndefined();
        });
        expect(await store.write((w) => w.getDelivery('d-sent'))).toStrictEqual(sent);
        const listed = await store.read.deliveriesOf('p1');
        expect(listed.find((d) => d.id === 'd-fresh')).toStrictEqual(fresh);
        expect(listed.find((d) => d.id === 'd-sent')).toStrictEqual(sent);
        expect(await store.read.deliveriesOf('nobody')).toEqual([]);
      });

      it('refuses a second delivery with the same id, in the same transaction or a later one', async () => {
        const d = delivery({ id: 'once' });
        await add(d);
        await expect(add(delivery({ id: 'once', profileId: 'p2' }))).rejects.toMatchObject({
          code: 'PW_ERR_STORE_CONFLICT',
        });
        await expect(add(delivery({ id: 'twice' }), delivery({ id: 'twice' }))).rejects.toMatchObject({
          code: 'PW_ERR_STORE_CONFLICT',
        });
        expect(await store.write((w) => w.getDelivery('once'))).toStrictEqual(d);
        expect(await store.write((w) => w.getDelivery('twice'))).toBeUndefined();
        expect(await store.read.deliveriesOf('p2')).toEqual([]);
      });

      it('deliveriesOf lists every delivery of the profile, newest first', async () => {
        await add(
          delivery({ id: 'mid', createdAt: T0 + 2 }),
          delivery({ id: 'new', createdAt: T0 + 3, status: 'cancelled', reason: 'converted' }),
          delivery({ id: 'old', createdAt: T0 + 1, status: 'sent', sentAt: T0 + 1 }),
          delivery({ id: 'other', createdAt: T0 + 9, profileId: 'p2' }),
        );
        expect(ids(await store.read.deliveriesOf('p1'))).toEqual(['new', 'mid', 'old']);
        expect(ids(await store.read.deliveriesOf('p2'))).toEqual(['other']);
      });

      it('dueDeliveries lists pending deliveries whose next attempt is due, earliest first, up to a limit', async () => {
        const first = delivery({ id: 'due-1', nextAttemptAt: T0 + 10 });
        await add(
          delivery({ id: 'due-3', nextAttemptAt: T0 + 30 }),
          first,
          delivery({ id: 'due-now', nextAttemptAt: T0 + 40, profileId: 'p2' }),
          delivery({ id: 'later', nextAttemptAt: T0 + 41 }),
          delivery({ id: 'due-2', nextAttemptAt: T0 + 20, attempts: 1, reason: 'smtp 451' }),
          delivery({ id: 'sent', nextAttemptAt: T0, status: 'sent', sentAt: T0 }),
          delivery({ id: 'failed', nextAttemptAt: T0, status: 'failed', reason: 'bounced' }),
          delivery({ id: 'cancelled', nextAttemptAt: T0, status: 'cancelled', reason: 'paused' }),
        );
        const due = async (now: number, limit: number) => ids(await store.read.dueDeliveries(now, limit));
        expect(await due(T0 + 40, 10)).toEqual(['due-1', 'due-2', 'due-3', 'due-now']);
        expect(await due(T0 + 40, 2)).toEqual(['due-1', 'due-2']);
        expect(await due(T0 + 9, 10)).toEqual([]);
        expect(await store.read.dueDeliveries(T0 + 10, 1)).toStrictEqual([first]);
        // A retry pushed into the future leaves the due list until its time comes.
        await store.write((w) => w.updateDelivery('due-1', { attempts: 1, nextAttemptAt: T0 + 35 }));
        expect(await due(T0 + 40, 10)).toEqual(['due-2', 'due-3', 'due-1', 'due-now']);
        await store.write((w) => w.updateDelivery('due-2', { status: 'sent', sentAt: T0 + 21 }));
        expect(await due(T0 + 40, 10)).toEqual(['due-3', 'due-1', 'due-now']);
      });

      it('updateDelivery changes only the fields given, and refuses an unknown id', async () => {
        const d = delivery({ id: 'u1' });
        const other = delivery({ id: 'u2' });
        await add(d, other);
        const failed = {
          attempts: 1,
          nextAttemptAt: T0 + 2 * HOUR,
          reason: 'smtp 451',
          updatedAt: T0 + HOUR,
        };
        await store.write(async (w) => {
          await w.updateDelivery('u1', failed);
          expect(await w.getDelivery('u1')).toStrictEqual({ ...d, ...failed });
        });
        const sent = { status: 'sent', attempts: 2, sentAt: T0 + 2 * HOUR, providerId: 'ses-9' } as const;
        // A field given as undefined is not given: it keeps its value.
        await store.write((w) => w.updateDelivery('u1', { ...sent, reason: undefined }));
        expect(await store.write((w) => w.getDelivery('u1'))).toStrictEqual({ ...d, ...failed, ...sent });
        await store.write((w) => w.updateDelivery('u1', {}));
        expect(await store.write((w) => w.getDelivery('u1'))).toStrictEqual({ ...d, ...failed, ...sent });
        expect(await store.write((w) => w.getDelivery('u2'))).toStrictEqual(other);
        await expect(store.write((w) => w.updateDelivery('ghost', { status: 'sent' }))).rejects.toMatchObject(
          {
            code: 'PW_ERR_STORE_CONFLICT',
            message: expect.stringContaining('ghost'),
          },
        );
        expect(await store.write((w) => w.getDelivery('ghost'))).toBeUndefined();
      });

      it('cancelDeliveries cancels the pending deliveries of a profile or an action and returns them', async () => {
        const pending = (id: string, over: Partial<Delivery> = {}) => delivery({ id, ...over });
        await add(
          pending('p1-a1'),
          pending('p1-a2', { actionId: 'a2' }),
          pending('p1-sent', { status: 'sent', sentAt: T0 }),
          pending('p1-failed', { status: 'failed', reason: 'bounced' }),
          pending('p2-a1', { profileId: 'p2' }),
          pending('p3-a2', { profileId: 'p3', actionId: 'a2' }),
          pending('p2-a2-sent', { profileId: 'p2', actionId: 'a2', status: 'sent', sentAt: T0 }),
        );
        const before = await store.read.deliveriesOf('p1');
        const cancelled = (id: string, reason: string, at: number) => ({
          ...before.find((d) => d.id === id),
          status: 'cancelled',
          reason,
          updatedAt: at,
        });
        const byProfile = await store.write((w) =>
          w.cancelDeliveries({ profileId: 'p1' }, 'converted', T0 + 5),
        );
        expect(byProfile).toStrictEqual([
          cancelled('p1-a1', 'converted', T0 + 5),
          cancelled('p1-a2', 'converted', T0 + 5),
        ]);
        const status = async (profileId: string) =>
          Object.fromEntries((await store.read.deliveriesOf(profileId)).map((d) => [d.id, d.status]));
        expect(await status('p1')).toEqual({
          'p1-a1': 'cancelled',
          'p1-a2': 'cancelled',
          'p1-sent': 'sent',
          'p1-failed': 'failed',
        });
        expect(await status('p2')).toEqual({ 'p2-a1': 'pending', 'p2-a2-sent': 'sent' });
        // Already cancelled: nothing left to cancel.
        expect(await store.write((w) => w.cancelDeliveries({ profileId: 'p1' }, 'again', T0 + 6))).toEqual(
          [],
        );
        expect((await store.read.deliveriesOf('p1')).find((d) => d.id === 'p1-a1')?.reason).toBe('converted');

        const byAction = await store.write((w) => w.cancelDeliveries({ actionId: 'a2' }, 'paused', T0 + 7));
        expect(ids(byAction)).toEqual(['p3-a2']);
        expect(byAction[0]).toMatchObject({ status: 'cancelled', reason: 'paused', updatedAt: T0 + 7 });
        expect(await status('p2')).toEqual({ 'p2-a1': 'pending', 'p2-a2-sent': 'sent' });
        expect(ids(await store.read.dueDeliveries(T0 + DAY, 10))).toEqual(['p2-a1']);
        expect(await store.write((w) => w.cancelDeliveries({ actionId: 'nothing' }, 'paused', T0))).toEqual(
          [],
        );
      });

      it('dueTimers lists due timers earliest first, ties in insertion order; deleteTimer says if it existed', async () => {
        const t = (id: string, dueAt: number, over: Partial<Timer> = {}) => timer({ id, dueAt, ...over });
        const first = t('t-first', T0 + 5, {
          kind: 'response-window',
          payload: { deliveryId: 'd-1', exclude: ['a1'], score: 1 / 3, nested: { ok: true, none: null } },
        });
        await addTimers(
          t('tie-b', T0 + 10),
          t('late', T0 + 50),
          first,
          t('tie-a', T0 + 10, { profileId: 'p2' }),
        );
        await addTimers(t('tie-c', T0 + 10), t('t-20', T0 + 20));
        const due = async (now: number, limit = 100) => ids(await store.read.dueTimers(now, limit));
        expect(await due(T0 + 20)).toEqual(['t-first', 'tie-b', 'tie-a', 'tie-c', 't-20']);
        expect(await due(T0 + 20, 3)).toEqual(['t-first', 'tie-b', 'tie-a']);
        expect(await due(T0 + 4)).toEqual([]);
        expect(await store.read.dueTimers(T0 + 5, 10)).toStrictEqual([first]);
        expect(await store.write((w) => w.deleteTimer('tie-b'))).toBe(true);
        expect(await store.write((w) => w.deleteTimer('tie-b'))).toBe(false);
        expect(await store.write((w) => w.deleteTimer('never'))).toBe(false);
        expect(await due(T0 + 100)).toEqual(['t-first', 'tie-a', 'tie-c', 't-20', 'late']);
        // A timer added now, due at an earlier tie, still comes after the ones added before it.
        await addTimers(t('tie-d', T0 + 10));
        expect(await due(T0 + 10)).toEqual(['t-first', 'tie-a', 'tie-c', 'tie-d']);
      });

      it('refuses a second timer with the same id; countTimers counts all or one profile', async () => {
        expect(await store.read.countTimers()).toBe(0);
        await addTimers(timer({ id: 'c1' }), timer({ id: 'c2' }), timer({ id: 'c3', profileId: 'p2' }));
        await expect(addTimers(timer({ id: 'c1', dueAt: T0 + 1 }))).rejects.toMatchObject({
          code: 'PW_ERR_STORE_CONFLICT',
        });
        await expect(addTimers(timer({ id: 'c4' }), timer({ id: 'c4' }))).rejects.toMatchObject({
          code: 'PW_ERR_STORE_CONFLICT',
        });
        expect(await store.read.countTimers()).toBe(3);
        expect(await store.read.countTimers('p1')).toBe(2);
        expect(await store.read.countTimers('p2')).toBe(1);
        expect(await store.read.countTimers('nobody')).toBe(0);
        await store.write((w) => w.deleteTimer('c3'));
        expect(await store.read.countTimers('p2')).toBe(0);
        expect(await store.read.countTimers()).toBe(2);
      });

      it('auditLog pages newest first, entries of the same time newest added first', async () => {
        expect(await store.read.auditLog({ limit: 5 })).toEqual({ items: [] });
        const entries = [
          audit({ id: 'a-old', at: T0 }),
          audit({ id: 'a-new', at: T0 + 30, change: 'kill-switch.on', target: '*', detail: {} }),
          audit({ id: 'a-same-1', at: T0 + 10 }),
          audit({ id: 'a-same-2', at: T0 + 10, actor: 'cli', change: 'action.resume' }),
        ];
        await store.write(async (w) => {
          for (const e of entries.slice(0, 3)) await w.addAudit(e);
        });
        await store.write(async (w) => w.addAudit(entries[3] as AuditEntry));
        const expected = ['a-new', 'a-same-2', 'a-same-1', 'a-old'];
        const first = await store.read.auditLog({ limit: 10 });
        expect(ids(first.items)).toEqual(expected);
        expect(first.next).toBeUndefined();
        expect(first.items[1]).toStrictEqual(entries[3]);
        expect(first.items[0]).toStrictEqual(entries[1]);
        for (const limit of [1, 2, 3, 4]) {
          const seen: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await store.read.auditLog(cursor === undefined ? { limit } : { cursor, limit });
            expect(page.items.length).toBeLessThanOrEqual(limit);
            seen.push(...ids(page.items));
            cursor = page.next;
            if (cursor !== undefined) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
          } while (cursor !== undefined);
          expect(seen).toEqual(expected);
        }
        await expect(store.write((w) => w.addAudit(audit({ id: 'a-old' })))).rejects.toMatchObject({
          code: 'PW_ERR_STORE_CONFLICT',
        });
        await store.write((w) => w.addDeadLetter(dead()));
        await store.write((w) => w.addDeadLetter(dead()));
        const foreign = (await store.read.deadLetters({ limit: 1 })).next as string;
        await expect(store.read.auditLog({ limit: 1, cursor: foreign })).rejects.toMatchObject({
          code: 'PW_ERR_QUERY_INVALID',
        });
      });

      it('controls are set, replaced and deleted; every JSON value round-trips', async () => {
        expect(await store.read.controls()).toEqual(new Map());
        await store.write(async (w) => {
          await w.setControl('kill-switch', false);
          await w.setControl('paused:email-reminder', { by: 'ops', at: T0, why: 'typo' });
          await w.setControl('paused:sms-nudge', { by: 'cli' });
          await w.setControl('weights', [1, 0.1 + 0.2, 'é', null, { deep: [true] }]);
          await w.setControl('note', 'hello');
          await w.setControl('limit', 0);
        });
        await store.write(async (w) => {
          await w.setControl('kill-switch', true);
          await w.setControl('paused:sms-nudge', null);
          await w.setControl('never-set', null);
        });
        expect(await store.read.controls()).toStrictEqual(
          new Map<string, Json>([
            ['kill-switch', true],
            ['limit', 0],
            ['note', 'hello'],
            ['paused:email-reminder', { by: 'ops', at: T0, why: 'typo' }],
            ['weights', [1, 0.1 + 0.2, 'é', null, { deep: [true] }]],
          ]),
        );
      });

      it('rolls back every outbox write when the callback throws', async () => {
        const kept = delivery({ id: 'kept' });
        const keptTimer = timer({ id: 'kept-timer' });
        await store.write(async (w) => {
          await w.addDelivery(kept);
          await w.addTimer(keptTimer);
          await w.addAudit(audit({ id: 'kept-audit' }));
          await w.setControl('kept', 1);
        });
        const boom = new Error('boom');
        await expect(
          store.write(async (w) => {
            await w.addDelivery(delivery({ id: 'lost' }));
            await w.updateDelivery('kept', { attempts: 3, reason: 'lost' });
            expect(ids(await w.cancelDeliveries({ profileId: 'p1' }, 'lost', T0))).toEqual(['kept', 'lost']);
            await w.addTimer(timer({ id: 'lost-timer' }));
            expect(await w.deleteTimer('kept-timer')).toBe(true);
            await w.addAudit(audit({ id: 'lost-audit' }));
            await w.setControl('kept', null);
            await w.setControl('lost', 'x');
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.write((w) => w.getDelivery('kept'))).toStrictEqual(kept);
        expect(await store.write((w) => w.getDelivery('lost'))).toBeUndefined();
        expect(await store.read.deliveriesOf('p1')).toStrictEqual([kept]);
        expect(await store.read.dueTimers(T0 + DAY, 10)).toStrictEqual([keptTimer]);
        expect(ids((await store.read.auditLog({ limit: 10 })).items)).toEqual(['kept-audit']);
        expect(await store.read.controls()).toEqual(new Map([['kept', 1]]));
        // The ids the rolled-back transaction used are free again.
        await store.write(async (w) => {
          await w.addDelivery(delivery({ id: 'lost' }));
          await w.addTimer(timer({ id: 'lost-timer' }));
          await w.addAudit(audit({ id: 'lost-audit' }));
        });
      });

      it('deliveries and timers move with their profile when it is folded into another', async () => {
        await store.write(async (w) => {
          await w.saveProfile(profile('p1'));
          await w.saveProfile(profile('p2'));
          await w.addDelivery(delivery({ id: 'of-p1', profileId: 'p1', createdAt: T0 + 1 }));
          await w.addDelivery(delivery({ id: 'of-p2', profileId: 'p2', createdAt: T0 + 2 }));
          await w.addDelivery(
            delivery({ id: 'of-p2-sent', profileId: 'p2', createdAt: T0, status: 'sent', sentAt: T0 }),
          );
          await w.addTimer(timer({ id: 't-p1', profileId: 'p1', dueAt: T0 + 1 }));
          await w.addTimer(timer({ id: 't-p2', profileId: 'p2', dueAt: T0 + 2 }));
        });
        await store.write(async (w) => {
          await w.foldProfile('p2', 'p1', T0 + 50);
          expect((await w.getDelivery('of-p2'))?.profileId).toBe('p1');
        });
        const mine = await store.read.deliveriesOf('p1');
        expect(ids(mine)).toEqual(['of-p2', 'of-p1', 'of-p2-sent']);
        expect(mine.every((d) => d.profileId === 'p1')).toBe(true);
        expect(await store.read.deliveriesOf('p2')).toEqual([]);
        expect(await store.read.countTimers('p1')).toBe(2);
        expect(await store.read.countTimers('p2')).toBe(0);
        expect((await store.read.dueTimers(T0 + 2, 10)).map((t) => [t.id, t.profileId])).toEqual([
          ['t-p1', 'p1'],
          ['t-p2', 'p1'],
        ]);
        // Converting now cancels what was queued for either of the customer's former profiles.
        const cancelled = await store.write((w) =>
          w.cancelDeliveries({ profileId: 'p1' }, 'converted', T0 + 60),
        );
        expect(ids(cancelled).sort()).toEqual(['of-p1', 'of-p2']);
      });

      it('survives close and reopen; ids stay taken and timer ties keep insertion order', async () => {
        const d = delivery({ id: 'durable', reason: 'first try failed', attempts: 1 });
        const t1 = timer({ id: 'dt-1', dueAt: T0 + 10, payload: { n: 1 } });
        const a = audit({ id: 'durable-audit' });
        await store.write(async (w) => {
          await w.addDelivery(d);
          await w.addTimer(t1);
          await w.addAudit(a);
          await w.setControl('kill-switch', true);
        });
        await reopen();
        expect(await store.write((w) => w.getDelivery('durable'))).toStrictEqual(d);
        expect(await store.read.dueDeliveries(d.nextAttemptAt, 5)).toStrictEqual([d]);
        expect(await store.read.dueTimers(T0 + 10, 5)).toStrictEqual([t1]);
        expect(await store.read.auditLog({ limit: 5 })).toStrictEqual({ items: [a] });
        expect(await store.read.controls()).toEqual(new Map([['kill-switch', true]]));
        await expect(add(d)).rejects.toMatchObject({ code: 'PW_ERR_STORE_CONFLICT' });
        await expect(addTimers(t1)).rejects.toMatchObject({ code: 'PW_ERR_STORE_CONFLICT' });
        await addTimers(timer({ id: 'dt-0', dueAt: T0 + 10 }));
        expect(ids(await store.read.dueTimers(T0 + 10, 5))).toEqual(['dt-1', 'dt-0']);
      });
    });

    describe('privacy: forget, exportProfile, isTombstoned', () => {
      const email = 'ada@example.com';
      const phone = '+442079460000';
      /** Ada (p1, with p0 folded into her) holds one of everything; Bob (p2) holds his own. */
      const seed = async () => {
        const d1 = decision({ id: 'd-ada', profileId: 'p1' });
        const d2 = decision({ id: 'd-bob', profileId: 'p2' });
        await store.write(async (w) => {
          await w.saveProfile(profile('p0', { traits: { plan: 'free' } }));
          await w.linkIdentities('p0', [key('anonymousId', 'anon-ada')], T0);
          await w.appendEvent(ev({ messageId: 'ada-anon-view', profileId: 'p0', anonymousId: 'anon-ada' }));
          await w.saveProfile(
            profile('p1', {
              traits: { email: 'Ada@Example.com', phone: '+44 20 7946 0000' },
              segments: ['vip'],
            }),
          );
          await w.linkIdentities('p1', [key('userId', 'u1'), key('email', email), key('phone', phone)], T0);
          await w.foldProfile('p0', 'p1', T0 + 1);
          await w.recordMerge(merge({ id: 'mg-ada', intoProfileId: 'p1', fromProfileId: 'p0' }));
          await w.appendEvent(
            ev({
              messageId: 'ada-identify',
              type: 'identify',
              userId: 'u1',
              traits: { email: 'Ada@Example.com', phone: '+44 20 7946 0000' },
            }),
          );
          await w.saveDecision(d1);
          await w.addOutcome({ decisionId: 'd-ada', at: T0, kind: 'goal', reward: 1, value: 5, cause: 'c1' });
          await w.addDelivery(delivery({ id: 'd-ada', profileId: 'p1' }));
          await w.addTimer(timer({ id: 't-ada', profileId: 'p1' }));
          await w.addDeadLetter(dead({ payload: '{"userId":"u1","event":"Bad"}' }));
          await w.addDeadLetter(dead({ payload: '{"traits":{"phone":"+44 (20) 7946-0000"}}' }));
          await w.addDeadLetter(dead({ payload: 'not json, but ADA@example.com is in it' }));
          await w.addDeadLetter(dead({ field: 'deliveries.d-ada', payload: '{"deliveryId":"d-ada"}' }));
          // Names no one of Ada's as a whole value: kept.
          await w.addDeadLetter(dead({ payload: '{"userId":"menu1","note":"u1x"}' }));

          await w.saveProfile(profile('p2', { segments: ['vip'] }));
          await w.linkIdentities('p2', [key('userId', 'u2')], T0);
          await w.appendEvent(ev({ messageId: 'bob-1', profileId: 'p2', userId: 'u2' }));
          await w.saveDecision(d2);
          await w.addDelivery(delivery({ id: 'd-bob', profileId: 'p2' }));
          await w.addTimer(timer({ id: 't-bob', profileId: 'p2' }));
        });
      };

      it('isTombstoned is false for everything before any erasure', async () => {
        await seed();
        expect(await store.read.isTombstoned([key('userId', 'u1')])).toBe(false);
        expect(await store.write((w) => w.isTombstoned([key('userId', 'u1')]))).toBe(false);
        expect(await store.read.isTombstoned([])).toBe(false);
      });

      it('exportProfile gathers one person: profile, merged profiles, identities, events, decisions, outbox', async () => {
        await seed();
        const x = await store.read.exportProfile('p0');
        expect(x?.profile.id).toBe('p1');
        expect(x?.mergedProfileIds).toEqual(['p0']);
        expect(byKey(x?.identities ?? [])).toEqual(
          byKey([
            key('userId', 'u1'),
            key('email', email),
            key('phone', phone),
            key('anonymousId', 'anon-ada'),
          ]),
        );
        expect(x?.events.map((e) => e.messageId)).toEqual(['ada-anon-view', 'ada-identify']);
        expect(x?.merges.map((m) => m.id)).toEqual(['mg-ada']);
        expect(x?.decisions.map((d) => [d.id, d.outcomes.length])).toEqual([['d-ada', 1]]);
        expect(x?.decisions[0]?.explanation.summary).toMatch(/Explored/);
        expect(x?.deliveries.map((d) => d.id)).toEqual(['d-ada']);
        expect(x?.timers.map((t) => t.id)).toEqual(['t-ada']);
        expect(x?.deadLetters).toHaveLength(4);
        expect(await store.read.exportProfile('nobody')).toBeUndefined();
      });

      it('forget erases the person everywhere in one transaction, leaves others alone, and keeps tombstones', async () => {
        await seed();
        const receipt = await store.write((w) => w.forget('p1', T0 + DAY));
        expect(receipt).toEqual({
          profileId: 'p1',
          tombstone: expect.stringMatching(/^[0-9a-f]{64}$/),
          erasedAt: T0 + DAY,
          removed: {
            profiles: 2,
            identities: 4,
            events: 2,
            merges: 1,
            segmentMemberships: 1,
            decisions: 1,
            outcomes: 1,
            timers: 1,
            deliveries: 1,
            deadLetters: 4,
            // userId, email, phone, anonymousId, and the two profile ids.
            tombstones: 6,
          },
        });
        for (const id of ['p1', 'p0', 'u1', email, 'anon-ada'])
          expect(await store.read.resolveProfileId(id)).toBeUndefined();
        expect(await store.read.getProfile('p1')).toBeUndefined();
        expect(await store.read.exportProfile('p1')).toBeUndefined();
        expect(await store.read.getDecision('d-ada')).toBeUndefined();
        expect(await store.read.deliveriesOf('p1')).toEqual([]);
        expect(await store.read.countTimers('p1')).toBe(0);
        expect((await fullTimeline('p1')).map(label)).toEqual([]);
        expect(await store.read.merges('p1')).toEqual([]);
        expect((await store.read.profilesInSegment('vip', { limit: 10 })).items).toEqual(['p2']);
        expect((await store.read.deadLetters({ limit: 10 })).items.map((d) => d.payload)).toEqual([
          '{"userId":"menu1","note":"u1x"}',
        ]);
        expect(await store.read.countEvents()).toBe(1);
        // Bob is untouched.
        expect(await store.read.resolveProfileId('u2')).toBe('p2');
        expect((await store.read.exportProfile('p2'))?.events.map((e) => e.messageId)).toEqual(['bob-1']);
        expect(await store.read.getDecision('d-bob')).toBeDefined();
        expect(await store.read.countTimers('p2')).toBe(1);

        for (const k of [
          key('userId', 'u1'),
          key('email', email),
          key('phone', phone),
          key('anonymousId', 'anon-ada'),
          key('profileId', 'p1'),
          key('profileId', 'p0'),
        ]) {
          expect(await store.read.isTombstoned([k])).toBe(true);
          expect(await store.write((w) => w.isTombstoned([key('userId', 'u2'), k]))).toBe(true);
        }
        expect(await store.read.isTombstoned([key('userId', 'u2'), key('email', 'u1')])).toBe(false);
        // A second erasure finds no one; tombstones outlive a restart.
        expect(await store.write((w) => w.forget('p1', T0 + DAY))).toBeUndefined();
        await reopen();
        expect(await store.read.isTombstoned([key('email', email)])).toBe(true);
        expect(await store.write((w) => w.isTombstoned([key('userId', 'u1')]))).toBe(true);
      });

      it('forget follows merge pointers to the live profile, and sees its own tombstones at once', async () => {
        await seed();
        await store.write(async (w) => {
          const r = await w.forget('p0', T0);
          expect(r?.profileId).toBe('p1');
          expect(await w.isTombstoned([key('userId', 'u1')])).toBe(true);
          expect(await w.findProfileIds([key('userId', 'u1')])).toEqual(new Map());
          expect(await w.getProfile('p1')).toBeUndefined();
        });
        expect(await store.write((w) => w.forget('unknown', T0))).toBeUndefined();
      });

      it('a rolled-back forget leaves the person as they were and nothing tombstoned', async () => {
        await seed();
        await expect(
          store.write(async (w) => {
            await w.forget('p1', T0);
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await store.read.resolveProfileId('u1')).toBe('p1');
        expect(await store.read.isTombstoned([key('userId', 'u1')])).toBe(false);
        expect(await store.write((w) => w.isTombstoned([key('userId', 'u1')]))).toBe(false);
        expect((await store.read.exportProfile('p1'))?.events).toHaveLength(2);
      });
    });

    describe('durability', () => {
      it('keeps everything across close and reopen, dedup included', async () => {
        const p = profile('p1', {
          traits: { name: 'Ada' },
          traitTimes: { name: T0 },
          segments: ['vip'],
          version: 2,
        });
        const m = merge({ id: 'm1', intoProfileId: 'p1', fromProfileId: 'p0', at: T0 - 1 });
        const seq = await store.write(async (w) => {
          await w.saveProfile(profile('p0'));
          await w.saveProfile(p);
          await w.linkIdentities('p1', [key('userId', 'u1')], T0);
          await w.foldProfile('p0', 'p1', T0);
          await w.recordMerge(m);
          await w.addDeadLetter(dead());
          return w.appendEvent(ev({ messageId: 'survives', profileId: 'p1' }));
        });
        await reopen();
        expect(await store.write((w) => w.hasMessage('web', 'survives'))).toBe(true);
        expect(await store.read.countEvents()).toBe(1);
        expect(await store.read.getProfile('p1')).toStrictEqual(p);
        expect(await store.read.resolveProfileId('u1')).toBe('p1');
        expect(await store.read.resolveProfileId('p0')).toBe('p1');
        expect(await store.read.merges('p1')).toStrictEqual([m]);
        expect((await store.read.deadLetters({ limit: 5 })).items).toHaveLength(1);
        expect((await store.read.profilesInSegment('vip', { limit: 5 })).items).toEqual(['p1']);
        expect((await fullTimeline('p1')).map(label)).toEqual(['survives', 'merge:m1']);
        const next = await store.write((w) => w.appendEvent(ev()));
        expect(next).toBeGreaterThan(seq);
      });
    });
  });
}
