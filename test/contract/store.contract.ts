import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  emptyProfile,
  INTERNAL_SOURCE,
  SEGMENT_ENTERED,
  type IdentityKey,
  type MergeRecord,
  type Profile,
} from '../../src/domain/index.js';
import type { DeadLetterInput, EventToAppend, Store, TimelineItem } from '../../src/store/store.js';

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A short label per timeline item, to compare orders readably. */
const label = (item: TimelineItem): string =>
  item.kind === 'event' ? item.event.messageId : `merge:${item.merge.id}`;

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
          } else {
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
