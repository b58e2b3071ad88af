import type { Signal } from '../domain/index.js';
import type { Catalog, CompiledAction } from './catalog.js';

/**
 * The actions a signal makes candidates, in catalog order: those whose trigger names the event, the entered
 * segment or the placement. A re-decision (no response to an earlier action) reconsiders the message actions
 * of the signal that started the chain, except those already tried; web content is only ever chosen for a
 * placement request.
 */
export const candidatesFor = (catalog: Catalog, signal: Signal): CompiledAction[] => {
  switch (signal.kind) {
    case 'event':
      return catalog.actions.filter((a) => a.config.trigger.events.includes(signal.event));
    case 'segment':
      return catalog.actions.filter((a) => a.config.trigger.segmentsEntered.includes(signal.segment));
    case 'placement':
      return catalog.actions.filter((a) => a.config.trigger.placements.includes(signal.placement));
    case 'redecide': {
      const pool = signal.origin === undefined ? catalog.actions : candidatesFor(catalog, signal.origin);
      return pool.filter((a) => a.channel !== 'web' && !signal.exclude.includes(a.id));
    }
    default: {
      const never: never = signal;
      throw new Error(`unknown signal ${JSON.stringify(never)}`);
    }
  }
};
