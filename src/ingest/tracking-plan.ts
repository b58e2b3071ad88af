import type { Json, PathwiseEvent } from '../domain/index.js';
import type { TrackingPlanConfig } from '../config/index.js';

type PropertyType = TrackingPlanConfig['events'][string]['properties'][string]['type'];

/** The JSON type of a value, in the plan's vocabulary (`integer` is reported as `number`). */
const jsonType = (v: Json): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

const matches = (v: Json, type: PropertyType): boolean => {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    default: {
      const never: never = type;
      throw new Error(`unknown property type ${String(never)}`);
    }
  }
};

/**
 * The tracking-plan violations of one event, each `<field>: <what is wrong and how to fix it>` (the
 * field first, so callers can point at it); empty when the event conforms. Only `track` calls are
 * checked: the plan names track events, and other calls carry traits or page names instead.
 * Lookups go through Object.hasOwn so event or property names such as `constructor` never match
 * something inherited from Object.prototype.
 */
export const checkTrackingPlan = (event: PathwiseEvent, plan: TrackingPlanConfig): string[] => {
  const violations: string[] = [];
  if (event.type !== 'track' || event.event === undefined) return violations;
  const name = event.event;
  if (!Object.hasOwn(plan.events, name)) {
    if (!plan.allowUnplanned) {
      violations.push(
        `event: ${JSON.stringify(name)} is not in the tracking plan; add it under trackingPlan.events or fix the name`,
      );
    }
    return violations;
  }
  const spec = plan.events[name] as TrackingPlanConfig['events'][string];
  const props = event.properties;
  for (const key in spec.properties) {
    const rule = spec.properties[key];
    if (rule === undefined) continue;
    const value = Object.hasOwn(props, key) ? props[key] : undefined;
    if (value === undefined) {
      if (rule.required) violations.push(`properties.${key}: required by the tracking plan`);
    } else if (!matches(value, rule.type)) {
      violations.push(
        rule.type === 'integer' && typeof value === 'number'
          ? `properties.${key}: expected integer (a whole number), got ${value}`
          : `properties.${key}: expected ${rule.type}, got ${jsonType(value)}`,
      );
    }
  }
  if (!spec.additionalProperties) {
    for (const key in props) {
      if (!Object.hasOwn(spec.properties, key)) {
        violations.push(
          `properties.${key}: not in the tracking plan for ${JSON.stringify(name)}; remove it or add it to the plan`,
        );
      }
    }
  }
  return violations;
};
