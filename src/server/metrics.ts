import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IngestMetrics, IngestOutcome } from '../ingest/index.js';

/** Prometheus metrics of one server: ingest counters, commit and HTTP latency histograms, process metrics. */
export class ServerMetrics implements IngestMetrics {
  readonly registry = new Registry();
  private readonly ingested = new Counter({
    name: 'pathwise_ingest_events_total',
    help: 'Events received by ingest, by source and outcome (accepted, duplicate, rejected, erased)',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly commitSeconds = new Histogram({
    name: 'pathwise_ingest_commit_seconds',
    help: 'Duration of one group commit (validation excluded, profile updates included)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly commitEvents = new Histogram({
    name: 'pathwise_ingest_commit_events',
    help: 'Entries (events and dead letters) written per group commit',
    buckets: [1, 10, 100, 500, 1000, 2500, 5000],
    registers: [this.registry],
  });
  readonly http = new Histogram({
    name: 'pathwise_http_request_duration_seconds',
    help: 'HTTP request latency by route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private readonly decisions = new Counter({
    name: 'pathwise_decisions_total',
    help: 'Decisions made, by mode (exploit, explore, holdout, kill-switch, no-candidates) and chosen action',
    labelNames: ['mode', 'action'] as const,
    registers: [this.registry],
  });
  private readonly rewards = new Counter({
    name: 'pathwise_model_updates_total',
    help: 'Resolved decisions the model learned from',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'pathwise_' });
  }

  events(source: string, outcome: IngestOutcome, n: number): void {
    if (n > 0) this.ingested.inc({ source, outcome }, n);
  }

  /** One decision; the action label is bounded by the catalog, `none` when nothing was chosen. */
  decision(mode: string, actionId: string | null): void {
    this.decisions.inc({ mode, action: actionId ?? 'none' });
  }

  modelUpdates(n: number): void {
    if (n > 0) this.rewards.inc(n);
  }

  commit(seconds: number, events: number): void {
    this.commitSeconds.observe(seconds);
    this.commitEvents.observe(events);
  }
}
