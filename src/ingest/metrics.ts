/** What ingest reports about itself; the server backs it with prom-client, tests with nothing. */
export interface IngestMetrics {
  events(source: string, outcome: 'accepted' | 'duplicate' | 'rejected', n: number): void;
  /** Seconds one group commit took, and how many events it held. */
  commit(seconds: number, events: number): void;
}

export const noMetrics: IngestMetrics = { events: () => {}, commit: () => {} };
