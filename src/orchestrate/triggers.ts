import {
  INTERNAL_SOURCE,
  type Channel,
  type PathwiseEvent,
  type Signal,
  type Timer,
} from '../domain/index.js';
import { candidatesFor, type Catalog } from '../decide/index.js';
import type { StoreWriter } from '../store/index.js';

/**
 * Events older than this when they arrive (bulk imports of history, replays) never trigger messages: a
 * customer should not get today's email for last year's visit.
 */
export const TRIGGER_MAX_AGE_MS = 60 * 60_000;

/** The signals an applied event gives: the event itself, and every segment it made the customer enter. */
export const signalsOf = (event: PathwiseEvent, entered: readonly string[]): Signal[] => {
  const signals: Signal[] = [];
  if (
    event.source !== INTERNAL_SOURCE &&
    (event.type === 'track' || event.type === 'page' || event.type === 'screen')
  ) {
    const name = event.type === 'track' ? (event.event ?? '') : event.type;
    signals.push({ kind: 'event', event: name, messageId: event.messageId, properties: event.properties });
  }
  for (const segment of entered) signals.push({ kind: 'segment', segment, messageId: event.messageId });
  return signals;
};

/**
 * Inside the ingest transaction: for every signal that makes a message action a candidate, a `decide` timer
 * due now. Written with the event, so a crash right after the commit cannot lose the trigger; the engine
 * loop makes the decision (one at a time per customer, in the order the events came).
 */
export const scheduleDecisions = async (
  w: StoreWriter,
  catalog: Catalog,
  event: PathwiseEvent,
  applied: { profileId: string; entered: readonly string[] },
  deps: { now: number; newId: () => string },
): Promise<number> => {
  if (deps.now - event.timestamp > TRIGGER_MAX_AGE_MS) return 0;
  let n = 0;
  // Only a message that can go out is worth a decision (no channel configured: nothing to log either).
  const sendable = (c: Channel) => c !== 'web' && (catalog.deliverable?.has(c) ?? true);
  for (const signal of signalsOf(event, applied.entered)) {
    if (!candidatesFor(catalog, signal).some((a) => sendable(a.channel))) continue;
    const timer: Timer = {
      id: deps.newId(),
      kind: 'decide',
      profileId: applied.profileId,
      dueAt: deps.now,
      payload: { signal: signal as unknown as Timer['payload'] },
    };
    await w.addTimer(timer);
    n++;
  }
  return n;
};
