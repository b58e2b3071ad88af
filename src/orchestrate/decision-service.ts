import {
  emptyProfile,
  type Channel,
  type Decision,
  type JsonObject,
  type Profile,
  type Signal,
} from '../domain/index.js';
import type { PathwiseConfig } from '../config/index.js';
import { compileCatalog, decide, type Catalog, type ContactHistory } from '../decide/index.js';
import { hashFeatures, type Rng } from '../learn/index.js';
import { computedValues, type ProfileService } from '../profiles/index.js';
import { PROFILE_ID_KIND, type Store, type StoredDecision, type StoreWriter } from '../store/index.js';
import { KeyedLock } from './keyed-lock.js';
import { noControls, withControls, type Controls } from './controls.js';

interface Logged {
  decision: Decision;
  /** Runs first in the transaction: creates the profile of a new customer (and may re-point the decision). */
  prepare?: (w: StoreWriter, d: Decision) => Promise<void>;
  alongside?: (w: StoreWriter, d: Decision) => Promise<void>;
}
import { PathwiseError } from '../errors.js';
import { GroupWriter } from './group-writer.js';
import type { Learner } from './learner.js';
import { LAST_GOAL_TRAIT } from './rewards.js';
import { decideBodySchema, parseBody } from './decide-request.js';

const DAY = 86_400_000;

/** The event a decision is about: its own, or for a fallback the event its chain started from. */
const eventFeatures = (signal: Signal) => {
  const e = signal.kind === 'redecide' ? signal.origin : signal;
  return e?.kind === 'event' ? { event: { name: e.event, properties: e.properties } } : {};
};

/** A placement gets the action's payload as its content; an action without one gets its content fields. */
const contentOf = (content: DecisionSettings['actions'][number]['content']): JsonObject =>
  (content.payload ?? content) as JsonObject;

export type DecisionSettings = Pick<
  PathwiseConfig,
  | 'goal'
  | 'actions'
  | 'placements'
  | 'policy'
  | 'holdout'
  | 'exploration'
  | 'model'
  | 'computedTraits'
  | 'channels'
>;

/**
 * The longest window any contact rule looks back over: caps, fatigue, do-not-repeat, and the response windows
 * that keep a message in flight (quiet hours may defer a send by up to a day, so in-flight reaches a day further).
 */
const contactLookback = (c: Catalog): number =>
  Math.max(
    DAY,
    c.policy.doNotRepeat,
    c.policy.fatigue?.window ?? 0,
    ...c.policy.frequencyCaps.map((cap) => cap.window),
    ...c.actions.map((a) => a.config.doNotRepeat ?? 0),
    ...(c.policy.oneMessageInFlight ? c.actions.map((a) => a.config.responseWindow + DAY) : []),
  );

/** Channels with a delivery configured (web content is served by the decision API). */
const deliverable = (settings: DecisionSettings): Channel[] =>
  (Object.keys(settings.channels) as Channel[]).filter(
    (c) => settings.channels[c as keyof typeof settings.channels],
  );

export interface DecisionServiceDeps {
  store: Store;
  profiles: ProfileService;
  learner: Learner;
  now: () => number;
  newId: () => string;
  rng: Rng;
  /** Called for every logged decision (metrics). */
  onDecision?: (d: Decision) => void;
}

/** What a website gets back from `POST /v1/decide`. */
export interface PlacementDecision {
  /** Null (with profileId) when the customer was erased: nothing was decided or logged, show the default. */
  decisionId: string | null;
  placement: string;
  profileId: string | null;
  /** Null: show the placement's default content (doing nothing was chosen, or nothing is allowed). */
  action: { id: string; channel: string } | null;
  content: JsonObject | null;
  mode: Decision['mode'];
  propensity: number;
}

/** The answer to a placement request for an erased customer: the placement's default content, nothing logged. */
const nothingForErased = (placement: string): PlacementDecision => ({
  decisionId: null,
  placement,
  profileId: null,
  action: null,
  content: null,
  mode: 'no-candidates',
  propensity: 1,
});

const idsOf = (body: { userId?: string; anonymousId?: string }) => [
  ...(body.userId === undefined ? [] : [{ kind: 'userId', value: body.userId }]),
  ...(body.anonymousId === undefined ? [] : [{ kind: 'anonymousId', value: body.anonymousId }]),
];

/**
 * The decision application service: gathers what the pure pipeline needs (profile, computed traits, contact
 * history, budgets, features), runs `decide`, and logs the decision durably before anyone acts on it.
 */
export class DecisionService {
  private catalog!: Catalog;
  /** How far back the contact history must reach for this catalog's policy (ms). */
  private lookback = DAY;
  private settings: DecisionSettings;
  private readonly log: GroupWriter<Logged, void>;
  private readonly lock = new KeyedLock();
  private controls: Controls = noControls;
  /** Sends per action today (UTC), counted here so budgets cost no query per decision. */
  private today = { start: -1, counts: new Map<string, number>() };

  constructor(
    settings: DecisionSettings,
    private readonly deps: DecisionServiceDeps,
  ) {
    this.settings = settings;
    this.use(this.compile());
    this.log = new GroupWriter(deps.store, async (w, { decision, prepare, alongside }) => {
      await prepare?.(w, decision);
      // The customer may have been erased since their profile was read: a decision must not bring them back.
      if (await w.isTombstoned([{ kind: PROFILE_ID_KIND, value: decision.profileId }])) {
        throw new PathwiseError('PW_ERR_PROFILE_ERASED', JSON.stringify(decision.profileId));
      }
      await w.saveDecision(decision);
      await alongside?.(w, decision);
    });
  }

  /** Swaps in a new (already validated) decisioning config; decisions in flight finish with the old one. */
  reconfigure(settings: DecisionSettings): void {
    this.settings = settings;
    this.use(this.compile());
  }

  /** Applies run-time controls (pauses, kill switch) to every decision from now on. */
  setControls(controls: Controls): void {
    this.controls = controls;
    this.use(this.compile());
  }

  /** The action catalog as decisions see it now (controls applied). */
  get current(): Catalog {
    return this.catalog;
  }

  /** Swaps the catalog and derives, once per catalog, how far back the contact policy looks. */
  private use(catalog: Catalog): void {
    this.catalog = catalog;
    this.lookback = contactLookback(catalog);
  }

  private compile(): Catalog {
    const settings = withControls(this.settings, this.controls);
    return compileCatalog(settings, { deliverable: deliverable(settings) });
  }

  /** Answers a web placement: the body is checked, an unknown customer gets a new anonymous profile. */
  async decideForPlacement(source: string, raw: unknown): Promise<PlacementDecision> {
    const body = parseBody(decideBodySchema, raw, 'PW_ERR_DECIDE_INVALID');
    if (!this.catalog.placements.has(body.placement)) {
      const known = [...this.catalog.placements].join(', ') || '(none declared)';
      throw new PathwiseError(
        'PW_ERR_DECIDE_PLACEMENT',
        `"${body.placement}" (declared placements: ${known})`,
        {
          field: 'placement',
        },
      );
    }
    const signal: Signal = {
      kind: 'placement',
      placement: body.placement,
      context: body.context as JsonObject,
    };
    const known = await this.findProfile(body);
    const ids = idsOf(body);
    // An erased customer gets "do nothing", and no profile, decision or log entry is written for them.
    if (known === undefined && (await this.deps.store.read.isTombstoned(ids))) {
      return nothingForErased(body.placement);
    }
    // A new customer's profile is created in the same transaction as the decision: one commit per request.
    const profile = known ?? emptyProfile(this.deps.newId(), this.deps.now());
    const prepare =
      known === undefined
        ? async (w: StoreWriter, d: Decision) => {
            // Erased since the check above: refuse rather than create a profile for them.
            if (await w.isTombstoned(ids))
              throw new PathwiseError('PW_ERR_PROFILE_ERASED', '(this customer)');
            d.profileId = (await this.deps.profiles.ensure(w, body, source, profile.id)).id;
          }
        : undefined;
    const d = await this.lock.run(profile.id, () => this.decideNow(profile, signal, undefined, prepare));
    const action = d.actionId === null ? undefined : this.catalog.byId.get(d.actionId);
    return {
      decisionId: d.id,
      placement: body.placement,
      profileId: d.profileId,
      action: action === undefined ? null : { id: action.id, channel: action.channel },
      content: action === undefined ? null : contentOf(action.config.content),
      mode: d.mode,
      propensity: d.propensity,
    };
  }

  /**
   * Decides for a customer on a signal and logs the decision (durable when this resolves). `alongside` writes
   * in the same transaction (the outbox row, the timer that asked), so either all of it commits or none does.
   * One decision at a time per customer: the latest profile is read inside the customer's turn.
   */
  decideFor(
    profileOrId: Profile | string,
    signal: Signal,
    alongside?: (w: StoreWriter, d: Decision) => Promise<void>,
  ): Promise<Decision | undefined> {
    const id = typeof profileOrId === 'string' ? profileOrId : profileOrId.id;
    return this.lock.run(id, async () => {
      const profile =
        typeof profileOrId === 'string' ? await this.deps.store.read.getProfile(profileOrId) : profileOrId;
      if (profile === undefined) return undefined;
      return this.decideNow(profile, signal, alongside);
    });
  }

  private async decideNow(
    profile: Profile,
    signal: Signal,
    alongside?: (w: StoreWriter, d: Decision) => Promise<void>,
    prepare?: (w: StoreWriter, d: Decision) => Promise<void>,
  ): Promise<Decision> {
    const now = this.deps.now();
    // A profile not stored yet has no history to read.
    const history = prepare === undefined ? await this.historyOf(profile, now) : await this.noHistory(now);
    const computed = computedValues(profile, this.settings.computedTraits, now);
    const tz = profile.traits[this.catalog.policy.quietHours?.timezoneTrait ?? 'timezone'];
    const features = hashFeatures(
      {
        traits: profile.traits,
        computed,
        segments: profile.segments,
        ...eventFeatures(signal),
        ...(signal.kind === 'placement' ? { context: signal.context } : {}),
        // A fallback is its own situation: a message went unanswered. Without these features the options of a
        // fallback would share every weight with the first decision's, and doing nothing after an unanswered
        // email would be credited with the orders the email brought late.
        ...(signal.kind === 'redecide' ? { context: { fallback: true, tried: signal.exclude } } : {}),
        at: now,
        ...(typeof tz === 'string' ? { timeZone: tz } : {}),
        recent: history.sends.slice(0, 20),
      },
      this.settings.model.featureBits,
    );
    const decision = decide(
      { id: this.deps.newId(), profile, computed, signal, features, history },
      {
        catalog: this.catalog,
        model: this.deps.learner.model,
        rng: this.deps.rng,
        now,
        attributionWindow: this.settings.goal?.attributionWindow ?? 7 * DAY,
      },
    );
    await this.log.submit({
      decision,
      ...(prepare === undefined ? {} : { prepare }),
      ...(alongside === undefined ? {} : { alongside }),
    });
    this.deps.onDecision?.(decision);
    if (decision.actionId !== null) {
      const counts = this.today.counts;
      counts.set(decision.actionId, (counts.get(decision.actionId) ?? 0) + 1);
    }
    return decision;
  }

  async getDecision(id: string): Promise<StoredDecision> {
    const d = await this.deps.store.read.getDecision(id);
    if (d === undefined) throw new PathwiseError('PW_ERR_DECISION_NOT_FOUND', JSON.stringify(id));
    return d;
  }

  private async findProfile(body: { userId?: string; anonymousId?: string }): Promise<Profile | undefined> {
    const read = this.deps.store.read;
    for (const [kind, value] of [
      ['userId', body.userId],
      ['anonymousId', body.anonymousId],
    ] as const) {
      if (value === undefined) continue;
      const id = await read.resolveProfileId(`${kind}:${value}`);
      const profile = id === undefined ? undefined : await read.getProfile(id);
      if (profile !== undefined) return profile;
    }
    return undefined;
  }

  private async noHistory(now: number): Promise<ContactHistory> {
    return { sends: [], sentToday: await this.sentToday(now) };
  }

  private async historyOf(profile: Profile, now: number): Promise<ContactHistory> {
    const sends = await this.deps.store.read.recentDecisions(profile.id, now - this.lookback);
    const last = profile.computed[LAST_GOAL_TRAIT];
    const lastGoalAt = last?.kind === 'last' && last.at !== null ? last.at : undefined;
    return {
      sends,
      ...(lastGoalAt === undefined ? {} : { lastGoalAt }),
      sentToday: await this.sentToday(now),
    };
  }

  private async sentToday(now: number): Promise<ReadonlyMap<string, number>> {
    const start = now - (now % DAY);
    if (this.today.start !== start) {
      this.today = { start, counts: await this.deps.store.read.actionSendCounts(start) };
    }
    return this.today.counts;
  }
}
