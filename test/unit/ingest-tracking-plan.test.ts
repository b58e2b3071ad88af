import { describe, expect, it } from 'vitest';
import type { Json, JsonObject, PathwiseEvent } from '../../src/domain/index.js';
import { trackingPlanSchema, type TrackingPlanConfig } from '../../src/config/schema.js';
import { checkTrackingPlan } from '../../src/ingest/tracking-plan.js';

/** Plans go through the config schema, so defaults are the ones users get. */
const plan = (input: unknown): TrackingPlanConfig => trackingPlanSchema.parse(input);

const track = (event: string, properties: JsonObject = {}): PathwiseEvent => ({
  messageId: 'm1',
  source: 'web',
  type: 'track',
  event,
  userId: 'u1',
  timestamp: 0,
  receivedAt: 0,
  properties,
  traits: {},
  context: {},
});

const orders = plan({
  allowUnplanned: false,
  events: {
    'Order Completed': {
      properties: {
        total: { type: 'number', required: true },
        currency: { type: 'string', required: true },
        quantity: { type: 'integer' },
        coupon: { type: 'string' },
      },
      additionalProperties: false,
    },
    'Signed Up': {},
  },
});

const goodOrder = { total: 42.5, currency: 'EUR', quantity: 2 };

describe('checkTrackingPlan', () => {
  it('passes a conforming event', () => {
    expect(checkTrackingPlan(track('Order Completed', goodOrder), orders)).toEqual([]);
    expect(checkTrackingPlan(track('Signed Up', { anything: [1, 2] }), orders)).toEqual([]);
  });

  it('allows unplanned events by default', () => {
    expect(checkTrackingPlan(track('Whatever'), plan({}))).toEqual([]);
    expect(checkTrackingPlan(track('Whatever'), plan({ events: { 'Signed Up': {} } }))).toEqual([]);
  });

  it('flags an unplanned event when allowUnplanned is false', () => {
    expect(checkTrackingPlan(track('Order Complete'), orders)).toEqual([
      'event: "Order Complete" is not in the tracking plan; add it under trackingPlan.events or fix the name',
    ]);
  });

  it('never matches names inherited from Object.prototype', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(checkTrackingPlan(track(name), orders)).toHaveLength(1);
    }
    const p = plan({ events: { X: { properties: { toString: { type: 'string', required: true } } } } });
    expect(checkTrackingPlan(track('X'), p)).toEqual(['properties.toString: required by the tracking plan']);
  });

  it('checks only track events against event names', () => {
    const base = track('Not Planned');
    for (const type of ['identify', 'page', 'screen', 'group', 'alias'] as const) {
      expect(checkTrackingPlan({ ...base, type }, orders)).toEqual([]);
    }
  });

  it('flags missing required properties', () => {
    expect(checkTrackingPlan(track('Order Completed', { currency: 'EUR' }), orders)).toEqual([
      'properties.total: required by the tracking plan',
    ]);
    expect(checkTrackingPlan(track('Order Completed'), orders)).toEqual([
      'properties.total: required by the tracking plan',
      'properties.currency: required by the tracking plan',
    ]);
  });

  it('does not require optional properties', () => {
    expect(checkTrackingPlan(track('Order Completed', { total: 1, currency: 'EUR' }), orders)).toEqual([]);
  });

  it('flags a wrong type', () => {
    expect(checkTrackingPlan(track('Order Completed', { ...goodOrder, total: '42.50' }), orders)).toEqual([
      'properties.total: expected number, got string',
    ]);
  });

  it('flags a present null as a wrong type, not as missing', () => {
    expect(checkTrackingPlan(track('Order Completed', { ...goodOrder, total: null }), orders)).toEqual([
      'properties.total: expected number, got null',
    ]);
  });

  it('integer means a whole number', () => {
    const check = (quantity: Json) =>
      checkTrackingPlan(track('Order Completed', { ...goodOrder, quantity }), orders);
    expect(check(3)).toEqual([]);
    expect(check(-1)).toEqual([]);
    expect(check(2.0)).toEqual([]);
    expect(check(2.5)).toEqual(['properties.quantity: expected integer (a whole number), got 2.5']);
    expect(check('3')).toEqual(['properties.quantity: expected integer, got string']);
  });

  it('checks every type against every kind of value', () => {
    const samples: Record<string, Json> = {
      string: 's',
      number: 1.5,
      integer: 2,
      boolean: false,
      object: { a: 1 },
      array: [1],
      null: null,
    };
    // Which sample kinds each declared type accepts (an integer is also a number).
    const accepts: Record<string, string[]> = {
      string: ['string'],
      number: ['number', 'integer'],
      integer: ['integer'],
      boolean: ['boolean'],
      object: ['object'],
      array: ['array'],
    };
    for (const [type, okKinds] of Object.entries(accepts)) {
      const p = plan({ events: { E: { properties: { v: { type } } } } });
      for (const [kind, value] of Object.entries(samples)) {
        const violations = checkTrackingPlan(track('E', { v: value }), p);
        expect(violations, `${type} vs ${kind}`).toHaveLength(okKinds.includes(kind) ? 0 : 1);
        if (violations.length > 0)
          expect(violations[0]).toMatch(new RegExp(`^properties\\.v: expected ${type}\\b`));
      }
    }
  });

  it('flags unknown properties when additionalProperties is false', () => {
    expect(checkTrackingPlan(track('Order Completed', { ...goodOrder, giftWrap: true }), orders)).toEqual([
      'properties.giftWrap: not in the tracking plan for "Order Completed"; remove it or add it to the plan',
    ]);
  });

  it('allows unknown properties by default', () => {
    const p = plan({ events: { E: { properties: { a: { type: 'string' } } } } });
    expect(checkTrackingPlan(track('E', { a: 'x', b: 1 }), p)).toEqual([]);
  });

  it('reports every violation of one event, each starting with its field', () => {
    const violations = checkTrackingPlan(
      track('Order Completed', { currency: 3, quantity: 1.5, extra: 'x', other: 'y' }),
      orders,
    );
    expect(violations).toEqual([
      'properties.total: required by the tracking plan',
      'properties.currency: expected string, got number',
      'properties.quantity: expected integer (a whole number), got 1.5',
      'properties.extra: not in the tracking plan for "Order Completed"; remove it or add it to the plan',
      'properties.other: not in the tracking plan for "Order Completed"; remove it or add it to the plan',
    ]);
    // The ingest service reads the field back from the text before the first colon.
    expect(violations.map((v) => v.split(':')[0])).toEqual([
      'properties.total',
      'properties.currency',
      'properties.quantity',
      'properties.extra',
      'properties.other',
    ]);
  });
});
