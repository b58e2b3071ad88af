import type { PathwiseEvent } from '../../domain/index.js';

/**
 * The name config uses to refer to an event: a track event's name, or the call type for the other calls
 * (`page`, `screen`, `identify`, `group`, `alias`), so `event: page` watches every page view.
 */
export const eventKey = (e: Pick<PathwiseEvent, 'type' | 'event'>): string =>
  e.type === 'track' ? (e.event ?? '') : e.type;

/** Reads `properties.a.b` style paths; a path without a `properties.` prefix is read from properties. */
export const readProperty = (e: Pick<PathwiseEvent, 'properties'>, path: string): unknown => {
  const parts = path.startsWith('properties.') ? path.slice(11).split('.') : path.split('.');
  let cur: unknown = e.properties;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
};
