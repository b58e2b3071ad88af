import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import type { JsonObject } from '../src/domain/index.js';
import { seededRng, type Rng } from './events.js';
import { createWorkspace, type Workspace } from './workspace.js';

/**
 * Fixtures of the two decision figures: the decisioning part of a bench config (a goal, placements, web
 * actions that all reach scoring), and customers with ~100 active features for the in-process figure.
 */

export const PLACEMENTS = ['home_banner', 'product_sidebar'] as const;

/** Segments every bench customer is in: web actions with an audience use them, so none is filtered out. */
const ALWAYS_IN = ['active_30d', 'web_visitors'] as const;

/**
 * `actions` approved web actions spread round-robin over `placements`. They are all eligible for every bench
 * customer and web content is not subject to caps, quiet hours or do-not-repeat, so every candidate reaches
 * scoring. Still, every 5th action has an `eligible` CEL expression (true for the bench customers) and every 5th
 * (offset) an audience, so the eligibility stage does its usual work.
 */
export const decisioning = (opts: {
  actions: number;
  placements: readonly string[];
}): Record<string, unknown> => {
  const actions = Array.from({ length: opts.actions }, (_, i) => ({
    id: `web_offer_${String(i).padStart(2, '0')}`,
    channel: 'web',
    trigger: { placements: [opts.placements[i % opts.placements.length]] },
    content: { payload: { headline: `Offer ${i}`, link: `/offers/${i}`, image: `/img/offer-${i}.jpg` } },
    ...(i % 5 === 1 ? { eligible: 'has(context.page) && context.page != "checkout"' } : {}),
    ...(i % 5 === 3 ? { audience: { include: [ALWAYS_IN[i % 2]], exclude: ['fraud_review'] } } : {}),
    value: 30 + (i % 7) * 5,
    cost: i % 4 === 0 ? 1 : 0,
    status: 'approved',
  }));
  return {
    goal: { event: 'Order Completed', value: { property: 'total', default: 45 }, attributionWindow: '7d' },
    placements: opts.placements.map((id) => ({ id, description: `bench placement ${id}` })),
    actions,
  };
};

/** Segments the `audience` filters name must exist: declared with a trivially false/true condition. */
const audienceSegments = [
  { name: 'active_30d', where: 'has(traits.bench_active)' },
  { name: 'web_visitors', where: 'has(traits.bench_active)' },
  { name: 'fraud_review', where: 'has(traits.bench_fraud)' },
];

/**
 * The config of the in-process figure as YAML text (parsed by the product's `parseConfig`): one placement with
 * `actions` web actions, the default policy, holdout, exploration and model settings.
 */
export const inProcessConfigYaml = (actions: number): string =>
  stringify({
    workspace: 'bench-decide',
    segments: audienceSegments,
    ...decisioning({ actions, placements: [PLACEMENTS[0]] }),
  });

/**
 * A bench workspace (see workspace.ts: source, write key, admin key, the shop's computed traits and segments)
 * plus a goal, both placements and `actions` approved web actions, for `POST /v1/decide`.
 */
export const createDecideWorkspace = (actions: number): Workspace => {
  const ws = createWorkspace();
  const config = parse(readFileSync(ws.config, 'utf8')) as Record<string, unknown>;
  const segments = [...((config.segments as unknown[] | undefined) ?? []), ...audienceSegments];
  writeFileSync(
    ws.config,
    stringify({ ...config, segments, ...decisioning({ actions, placements: PLACEMENTS }) }),
  );
  return ws;
};

/** What the pipeline is given about one customer (as the decision service assembles it). */
export interface BenchCustomer {
  profile: { id: string; traits: JsonObject; segments: string[] };
  computed: Record<string, unknown>;
  context: JsonObject;
  timeZone: string;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
const round2 = (x: number) => Math.round(x * 100) / 100;
const DAY = 86_400_000;

/**
 * A realistic, well-filled customer: ~40 trait features (strings, numbers, booleans, a nested object, a tag
 * list, plus identifiers and dates that hashing skips), ~18 computed traits, ~20 segments and a 12-key placement
 * context; with bias, 3 time features and recent-contact features that makes ~100 active features.
 */
export const benchCustomer = (n: number, seed: number, now: number): BenchCustomer => {
  const rng = seededRng(seed * 7919 + n);
  const country = pick(rng, ['DE', 'AT', 'CH', 'FR', 'NL', 'GB', 'US', 'IT']);
  const timeZone = pick(rng, ['Europe/Berlin', 'Europe/Vienna', 'Europe/Paris', 'Europe/London']);
  const orders = Math.floor(rng() * 12);
  const traits: JsonObject = {
    // Skipped by hashing (identifiers, dates, long text): present because real profiles have them.
    email: `customer${n}@example.com`,
    first_name: 'Alex',
    last_name: 'Example',
    phone: '+49 30 1234567',
    userId: `bench-user-${n}`,
    created_at: '2024-05-17T10:11:12Z',
    bio: 'A free-text field that is far too long to be a category, so hashing skips it.',
    // Features.
    bench_active: true,
    plan: pick(rng, ['free', 'basic', 'pro', 'business']),
    country,
    city: pick(rng, ['Berlin', 'Vienna', 'Zurich', 'Paris', 'Amsterdam', 'London']),
    language: pick(rng, ['de', 'en', 'fr', 'nl']),
    currency: country === 'GB' ? 'GBP' : country === 'US' ? 'USD' : country === 'CH' ? 'CHF' : 'EUR',
    timezone: timeZone,
    gender: pick(rng, ['f', 'm', 'x']),
    age: 18 + Math.floor(rng() * 60),
    tenure_days: Math.floor(rng() * 2000),
    loyalty_tier: pick(rng, ['none', 'silver', 'gold', 'platinum']),
    loyalty_points: Math.floor(rng() * 5000),
    newsletter: rng() < 0.6,
    sms_opt_in: rng() < 0.3,
    push_enabled: rng() < 0.5,
    app_installed: rng() < 0.4,
    signup_channel: pick(rng, ['web', 'ios', 'android', 'store']),
    acquisition_source: pick(rng, ['google', 'facebook', 'instagram', 'referral', 'direct']),
    preferred_category: pick(rng, ['shoes', 'outdoor', 'running', 'yoga', 'kids']),
    shoe_size: 36 + Math.floor(rng() * 12),
    clothing_size: pick(rng, ['S', 'M', 'L', 'XL']),
    household_size: 1 + Math.floor(rng() * 5),
    has_children: rng() < 0.4,
    b2b: rng() < 0.1,
    nps: Math.floor(rng() * 11),
    support_tickets: Math.floor(rng() * 4),
    returns_rate: round2(rng() * 0.4),
    ab_bucket: pick(rng, ['A', 'B']),
    interests: ['running', 'yoga', 'outdoor', 'trail', 'sale'].filter(() => rng() < 0.8),
    consent: { marketing: true, analytics: rng() < 0.9, personalization: true },
    preferences: {
      channel: pick(rng, ['email', 'sms', 'push']),
      frequency: pick(rng, ['daily', 'weekly', 'monthly']),
      dark_mode: rng() < 0.5,
      style: pick(rng, ['casual', 'sport', 'classic']),
    },
    device: {
      type: pick(rng, ['mobile', 'desktop', 'tablet']),
      os: pick(rng, ['ios', 'android', 'windows']),
    },
  };
  const revenue = round2(orders * (30 + rng() * 90));
  const computed: Record<string, unknown> = {
    orders_total: orders,
    orders_30d: Math.floor(rng() * 3),
    orders_90d: Math.floor(rng() * 5),
    revenue_total: revenue,
    revenue_30d: round2(rng() * 200),
    avg_order_value: orders === 0 ? null : round2(revenue / orders),
    views_7d: Math.floor(rng() * 40),
    views_30d: Math.floor(rng() * 120),
    sessions_7d: Math.floor(rng() * 10),
    sessions_30d: Math.floor(rng() * 30),
    cart_adds_7d: Math.floor(rng() * 6),
    searches_7d: Math.floor(rng() * 15),
    favourite_category: pick(rng, ['shoes', 'outdoor', 'running', 'yoga', 'kids']),
    favourite_brand: pick(rng, ['acme', 'globex', 'initech', 'umbrella']),
    last_page_viewed: pick(rng, ['/', '/sale', '/running', '/outdoor', '/cart']),
    first_order_at: now - Math.floor(rng() * 700) * DAY,
    last_order_at: now - Math.floor(rng() * 90) * DAY,
    days_since_last_visit: Math.floor(rng() * 30),
    emails_opened_30d: Math.floor(rng() * 12),
  };
  const segments = [
    ...ALWAYS_IN,
    ...[
      'customers',
      'big_spenders',
      'browsing_not_buying',
      'lapsed',
      'newsletter',
      'repeat_buyers',
      'high_aov',
      'mobile_first',
      'app_users',
      'sale_hunters',
      'runners',
      'outdoor_fans',
      'yoga',
      'parents',
      'dach',
      'loyalty_members',
      'engaged_email',
      'cart_abandoners',
      'new_this_month',
      'vip',
      'at_risk',
    ].filter(() => rng() < 0.85),
  ];
  const context: JsonObject = {
    page: pick(rng, ['home', 'category', 'product', 'search']),
    path: pick(rng, ['/', '/running', '/outdoor/jackets', '/sale']),
    device: pick(rng, ['mobile', 'desktop', 'tablet']),
    browser: pick(rng, ['chrome', 'safari', 'firefox', 'edge']),
    referrer: pick(rng, ['google', 'newsletter', 'instagram', 'direct']),
    utm_source: pick(rng, ['google', 'newsletter', 'instagram']),
    utm_medium: pick(rng, ['cpc', 'email', 'social']),
    utm_campaign: pick(rng, ['spring_sale', 'new_arrivals', 'brand']),
    search: pick(rng, ['running shoes', 'rain jacket', 'yoga mat']),
    cart_items: Math.floor(rng() * 5),
    cart_value: round2(rng() * 300),
    logged_in: true,
  };
  return { profile: { id: `bench-user-${n}`, traits, segments }, computed, context, timeZone };
};

/** A placement request's context for `POST /v1/decide` (a few flat facts, as a website sends them). */
export const requestContext = (rng: Rng): JsonObject => ({
  page: pick(rng, ['home', 'category', 'product', 'search']),
  path: pick(rng, ['/', '/running', '/outdoor/jackets', '/sale']),
  device: pick(rng, ['mobile', 'desktop', 'tablet']),
  referrer: pick(rng, ['google', 'newsletter', 'instagram', 'direct']),
  cart_items: Math.floor(rng() * 5),
  logged_in: rng() < 0.7,
});
