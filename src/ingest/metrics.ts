export type IngestOutcome = 'accepted' | 'duplicate' | 'rejected' | 'erased';

/** What ingest reports about itself; the server backs it with prom-client, tests with nothing. */
export interface IngestMetrics {
  /** `erased`: events naming an erased person, acknowledged but not stored. */
  events(source: string, outcome: IngestOutcome, n: number): void;
  /** Seconds one group commit took, and how many events it held. */
  commit(seconds: number, events: number): void;
}

export const noMetrics: IngestMetrics = { events: () => {}, commit: () => {} };
