import type { DecideFigure } from './decide.js';
import type { DecideHttpRun, DecideStoreCheck } from './decide-http.js';
import type { EvaluateFigure } from './evaluate.js';
import type { ImportRun, StoreCounts } from './import.js';
import type { AppendCheck, IngestRun, Verification } from './ingest-http.js';
import type { LatencyRun } from './latency.js';
import type { LoopFigure, LoopRun, LoopStages } from './loop.js';
import type { ProfileSummary } from './profile.js';
import type { CpuUse } from './servers.js';
import type { TimersFigure } from './timers.js';

/** Everything a run measured; written to bench/out/results.json as is. */
export interface Results {
  machine: {
    cpus: number;
    model: string;
    node: string;
    platform: string;
    release: string;
    memoryGb: number;
    /** os.loadavg() when the run started. */
    loadAtStart: number[];
    /** Newest file in dist/ when the run started. */
    distBuiltAt: string;
    /** dist/ changed while the benchmarks ran: figures may mix two builds. */
    distRebuiltDuringRun?: boolean;
  };
  mode: 'full' | 'quick';
  startedAt: string;
  settings: Record<string, number | string | boolean>;
  ingest?: {
    pathwise: IngestRun;
    bare: IngestRun;
    /** Second baseline: bench/append-server.ts (durable SQLite append, no profiles). */
    append: IngestRun;
    appendCheck: AppendCheck;
    verification: Verification;
    stored: StoreCounts;
  };
  import?: ImportRun;
  latency?: { rate: number; pathwise: LatencyRun; bare: LatencyRun };
  profile?: ProfileSummary;
  /** Figure 4: hashFeatures + decide() in process (bench/decide.ts). */
  decide?: DecideFigure;
  /** With --profile: the decide child under --cpu-prof (not a figure). */
  decideProfile?: ProfileSummary;
  /** With --profile: pathwise serve under --cpu-prof during one more /v1/decide run (not a figure). */
  decideHttpProfile?: ProfileSummary;
  /** Figure 5: POST /v1/decide at a fixed open-loop rate, beside the bare route's constant answer. */
  decideHttp?: {
    rate: number;
    users: number;
    actions: number;
    pathwise: DecideHttpRun;
    bare: DecideHttpRun;
    store: DecideStoreCheck;
  };
  /** Figure 6: the orchestration loop end to end (bench/loop.ts), beside ingest alone. */
  loop?: LoopFigure;
  /** With --profile: the server under --cpu-prof during one more closed-loop run (not a figure). */
  loopProfile?: ProfileSummary;
  /** The same profile's measured window, by stage of the loop. */
  loopStages?: LoopStages;
  /** Figure 7: the durable timer store (bench/timers.ts), beside bare SQLite tables. */
  timers?: TimersFigure;
  /** Figure 8: `pathwise evaluate` on a generated 1M-row log (bench/evaluate.ts), beside csv-parse alone. */
  evaluate?: EvaluateFigure;
  failures: string[];
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
const us = (x: number) => `${x.toFixed(x < 100 ? 1 : 0)} µs`;
const cores = (c: CpuUse) => (c.server / c.wall).toFixed(2);
/** Other processes' CPU during a run, in cores: anything above ~0.2 on 2 cores makes the figures noisy. */
const noise = (label: string, c: CpuUse): string | undefined =>
  c.other / c.wall > 0.2
    ? `WARNING: other processes used ${(c.other / c.wall).toFixed(2)} cores during ${label}: figures are noisy`
    : undefined;

type Row = [figure: string, pathwise: string, baseline: string, ratio: string, target: string, ok: string];

const table = (rows: Row[]): string => {
  const head: Row = ['figure', 'pathwise', 'baseline (same run)', 'ratio', 'target', ''];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]?.length ?? 0)));
  const line = (r: Row) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
};

export const formatSummary = (r: Results): string => {
  const rows: Row[] = [];
  const notes: string[] = [];
  if (r.ingest) {
    const { pathwise: p, bare: b, verification: v, stored } = r.ingest;
    const ratio = p.eventsPerSec / b.eventsPerSec;
    rows.push([
      '1. POST /v1/batch, events/s',
      n0(p.eventsPerSec),
      `bare fastify ${n0(b.eventsPerSec)}`,
      pct(ratio),
      '>= 20,000/s, >= 40%',
      verdict(p.eventsPerSec >= 20_000 && ratio >= 0.4),
    ]);
    rows.push(['   requests/s (100 events each)', n0(p.load.reqPerSec), n0(b.load.reqPerSec), '', '', '']);
    rows.push(['   latency p50', ms(p.load.raw.p50), ms(b.load.raw.p50), '', '', '']);
    rows.push(['   latency p99', ms(p.load.raw.p99), ms(b.load.raw.p99), '', '', '']);
    rows.push(['   server CPU per event', us(p.serverUsPerEvent), us(b.serverUsPerEvent), '', '', '']);
    rows.push(['   server CPU use (cores)', cores(p.cpu), cores(b.cpu), '', '', '']);
    rows.push([
      '   non-2xx / errors',
      `${p.load.non2xx} / ${p.load.errors}`,
      `${b.load.non2xx} / ${b.load.errors}`,
      '',
      '0',
      verdict(p.load.non2xx + p.load.errors === 0),
    ]);
    const a = r.ingest.append;
    const ac = r.ingest.appendCheck;
    rows.push([
      '   baseline: durable SQLite append',
      '',
      `${n0(a.eventsPerSec)} events/s`,
      pct(p.eventsPerSec / a.eventsPerSec),
      '',
      '',
    ]);
    notes.push(
      `ingest: ${n0(p.eventBytes)} B/event, ${n0(p.bodyBytes / 1024)} KB/request; accepted per /metrics ${n0(v.counts.accepted)} ` +
        `(answered 2xx ${n0(v.answeredEvents)}, issued ${n0(v.issuedEvents)}), rejected ${v.counts.rejected}, ` +
        `duplicates ${v.counts.duplicate}, dead letters ${v.deadLetters}; in SQLite: ${n0(stored.events)} events, ` +
        `${n0(stored.profiles)} profiles -> ${verdict(v.ok && stored.events === v.counts.accepted)}`,
    );
    notes.push(
      `ingest: CPU during the ${p.load.seconds} s runs (pathwise / bare): server ${p.cpu.server.toFixed(1)} / ${b.cpu.server.toFixed(1)} s, ` +
        `load generator ${p.cpu.client.toFixed(1)} / ${b.cpu.client.toFixed(1)} s, other processes ${p.cpu.other.toFixed(1)} / ${b.cpu.other.toFixed(1)} s`,
    );
    const c = v.commits;
    notes.push(
      `ingest: server group commits (warm-up + run): ${n0(c.commits)}, mean ${n0(c.meanEvents)} events and ${ms(c.meanMs)} each, ` +
        `${c.totalSeconds.toFixed(1)} s inside commits over ${(p.warmup.seconds + p.load.seconds).toFixed(1)} s of load`,
    );
    notes.push(
      `ingest: durable append baseline (WAL, synchronous=FULL, one transaction per request, no profiles): ` +
        `pathwise = ${pct(p.eventsPerSec / a.eventsPerSec)} of it, it = ${pct(a.eventsPerSec / b.eventsPerSec)} of bare; ${n0(a.load.reqPerSec)} requests/s, p50 ${ms(a.load.raw.p50)}, ` +
        `p99 ${ms(a.load.raw.p99)}, server CPU ${us(a.serverUsPerEvent)}/event, ${cores(a.cpu)} cores, ` +
        `non-2xx / errors ${a.load.non2xx} / ${a.load.errors}; rows ${n0(ac.rows)} (answered 2xx ${n0(ac.answeredEvents)}, ` +
        `issued ${n0(ac.issuedEvents)}) -> ${verdict(ac.ok)}`,
    );
  }
  if (r.import) {
    const i = r.import;
    rows.push([
      `2. import ${n0(i.events)} events, events/s`,
      n0(i.pathwise.eventsPerSec),
      `read+JSON.parse ${n0(i.baseline.eventsPerSec)}`,
      pct(i.pathwise.eventsPerSec / i.baseline.eventsPerSec),
      '>= 50,000/s',
      verdict(i.pathwise.eventsPerSec >= 50_000),
    ]);
    rows.push([
      '   wall time',
      `${i.pathwise.seconds.toFixed(1)} s`,
      `${i.baseline.seconds.toFixed(1)} s`,
      '',
      '',
      '',
    ]);
    rows.push([
      '   peak RSS (VmHWM)',
      `${i.pathwise.peakRssMb.toFixed(0)} MB`,
      `${i.baseline.peakRssMb.toFixed(0)} MB`,
      '',
      '<= 300 MB',
      verdict(i.pathwise.peakRssMb <= 300),
    ]);
    notes.push(
      `import: ${i.fileMb.toFixed(0)} MB JSONL (generated in ${i.generateSeconds.toFixed(1)} s); in SQLite: ` +
        `${n0(i.stored.events)} events, ${n0(i.stored.profiles)} profiles, ${i.stored.deadLetters} dead letters -> ${verdict(i.ok)}`,
    );
  }
  if (r.latency) {
    const { pathwise: p, bare: b, rate } = r.latency;
    const ratio = (x: number, y: number) => `${(x / y).toFixed(1)}x`;
    rows.push([
      `3. /v1/track p99 @ ${rate}/s (autocannon)`,
      ms(p.autocannon.autocannon.p99),
      ms(b.autocannon.autocannon.p99),
      ratio(p.autocannon.autocannon.p99, b.autocannon.autocannon.p99),
      '',
      '',
    ]);
    rows.push([
      '   p99, autocannon raw',
      ms(p.autocannon.raw.p99),
      ms(b.autocannon.raw.p99),
      ratio(p.autocannon.raw.p99, b.autocannon.raw.p99),
      '',
      '',
    ]);
    rows.push(['   p50, autocannon raw', ms(p.autocannon.raw.p50), ms(b.autocannon.raw.p50), '', '', '']);
    rows.push([
      '   p99, open loop (from schedule)',
      ms(p.openLoop.fromSchedule.p99),
      ms(b.openLoop.fromSchedule.p99),
      ratio(p.openLoop.fromSchedule.p99, b.openLoop.fromSchedule.p99),
      '',
      '',
    ]);
    rows.push([
      '   max, open loop',
      ms(p.openLoop.fromSchedule.max),
      ms(b.openLoop.fromSchedule.max),
      '',
      '',
      '',
    ]);
    rows.push([
      '   non-2xx / errors',
      `${p.autocannon.non2xx + p.openLoop.non2xx} / ${p.autocannon.errors + p.openLoop.errors}`,
      `${b.autocannon.non2xx + b.openLoop.non2xx} / ${b.autocannon.errors + b.openLoop.errors}`,
      '',
      '0',
      verdict(p.autocannon.non2xx + p.openLoop.non2xx + p.autocannon.errors + p.openLoop.errors === 0),
    ]);
    notes.push(
      `latency: autocannon sent ${n0(p.autocannon.ok)} / ${n0(b.autocannon.ok)} answered requests in ${p.autocannon.seconds} s (10 connections, ` +
        `bursty closed loop; its p99 has 1 ms resolution and a CO correction with a 1 ms interval); open loop sent ${n0(p.openLoop.sent)} / ${n0(b.openLoop.sent)} on a fixed schedule`,
    );
  }
  if (r.decide) {
    const d = r.decide;
    const m = d.main;
    const b = d.breakdown;
    rows.push([
      `4. decide() in process, decisions/s`,
      n0(m.perSec),
      '',
      '',
      '>= 20,000/s',
      verdict(m.perSec >= 20_000),
    ]);
    rows.push([
      `   µs per decision (${m.propensitySamples} samples)`,
      us(m.usPerDecision),
      '',
      '',
      '<= 50 µs',
      '',
    ]);
    rows.push([
      '   hashFeatures / decide()',
      `${us(b.hashUs)} / ${us(b.decideUs)}`,
      '',
      `${pct(b.hashShare)} / ${pct(b.decideShare)}`,
      '',
      '',
    ]);
    rows.push([
      '   in decide(): posteriors / Thompson / rest',
      `${us(d.stages.posteriorsUs)} / ${us(d.stages.thompsonUs)} / ${us(d.stages.restUs)}`,
      '',
      [d.stages.posteriorsUs, d.stages.thompsonUs, d.stages.restUs]
        .map((x) => pct(x / b.decideUs))
        .join(' / '),
      '',
      '',
    ]);
    for (const v of d.variants) {
      rows.push([
        `   propensitySamples ${v.propensitySamples}`,
        `${n0(v.perSec)}/s, ${us(v.usPerDecision)}`,
        '',
        `${(v.perSec / m.perSec).toFixed(2)}x`,
        '',
        '',
      ]);
    }
    const modes = Object.entries(d.modes)
      .map(([k, v]) => `${k} ${n0(v)}`)
      .join(', ');
    notes.push(
      `decide: one core, ${d.actions} web actions on one placement, all scored (${d.optionsScored} options with doing nothing), ` +
        `${d.features.mean.toFixed(0)} active features per customer (${d.features.min}–${d.features.max}, 64 customers), model trained with ` +
        `${d.model.updatesPerArm} updates on each of ${d.model.arms} arms (logistic posteriors, featureBits ${d.model.featureBits}); ` +
        `${n0(m.decisions)} decisions in ${m.seconds.toFixed(1)} s after ${d.warmupSeconds} s warm-up; modes: ${modes}; ` +
        `stages in decide() timed apart on the same inputs (rest = by difference)`,
    );
  }
  if (r.decideHttp) {
    const { pathwise: p, bare: b, rate } = r.decideHttp;
    const pl = p.load;
    const bl = b.load;
    const ratio = pl.fromSchedule.p99 / bl.fromSchedule.p99;
    rows.push([
      `5. POST /v1/decide p99 @ ${rate}/s (open loop)`,
      ms(pl.fromSchedule.p99),
      `bare fastify ${ms(bl.fromSchedule.p99)}`,
      `${ratio.toFixed(1)}x`,
      '<= 10 ms, <= 3x bare',
      verdict(pl.fromSchedule.p99 <= 10 && ratio <= 3),
    ]);
    for (const k of ['p50', 'p90', 'max'] as const) {
      rows.push([
        `   ${k}`,
        ms(pl.fromSchedule[k]),
        ms(bl.fromSchedule[k]),
        `${(pl.fromSchedule[k] / bl.fromSchedule[k]).toFixed(1)}x`,
        '',
        '',
      ]);
    }
    rows.push(['   p99 from the actual send', ms(pl.raw.p99), ms(bl.raw.p99), '', '', '']);
    rows.push(['   server CPU per request', us(p.serverUsPerRequest), us(b.serverUsPerRequest), '', '', '']);
    rows.push(['   server CPU use (cores)', cores(p.cpu), cores(b.cpu), '', '', '']);
    rows.push([
      '   non-2xx / errors',
      `${pl.non2xx} / ${pl.errors}`,
      `${bl.non2xx} / ${bl.errors}`,
      '',
      '0',
      verdict(pl.non2xx + pl.errors + p.warmup.non2xx + p.warmup.errors === 0),
    ]);
    const modes = Object.entries(pl.modes)
      .map(([k, v]) => `${k} ${n0(v)}`)
      .join(', ');
    const st = r.decideHttp.store;
    notes.push(
      `decide-http: ${n0(pl.sent)} requests in ${pl.sent / rate} s over ${n0(pl.users)} distinct userIds (of ${n0(r.decideHttp.users)}; ` +
        `the first request of each creates its profile), 2 placements, ${r.decideHttp.actions} web actions, untrained model; ` +
        `answers: ${modes}; ${n0(pl.withAction)} named an action; in SQLite (warm-up included): ${n0(st.decisions)} decisions logged, ` +
        `${n0(st.profiles)} profiles -> ${verdict(st.ok)}`,
    );
  }
  if (r.loop) {
    const l = r.loop;
    const s = l.sustainable;
    const b = l.baseline;
    const t = l.atTarget;
    const lag = (x: LoopRun) => `${ms(x.lag.p50)} / ${ms(x.lag.p99)}`;
    const flow = (x: LoopRun) =>
      `${n0(x.triggersPerSec)} / ${n0(x.decisionsPerSec)} / ${n0(x.deliveriesPerSec)}`;
    rows.push([
      '6. loop: events/s it keeps up with',
      n0(l.sustainableEventsPerSec),
      `ingest only ${n0(b.eventsPerSec)}`,
      pct(l.ratio),
      `>= ${n0(l.target)}/s, 1 in ${l.triggerEvery} triggers`,
      verdict(l.targetMet),
    ]);
    rows.push([
      '   closed loop: events/s accepted',
      n0(s.eventsPerSec),
      n0(b.eventsPerSec),
      pct(s.eventsPerSec / b.eventsPerSec),
      '',
      '',
    ]);
    rows.push(['   triggers / decisions / deliveries per s', flow(s), '', '', '', '']);
    rows.push(['   lag ack -> webhook p50 / p99', lag(s), '', '', `<= ${s.lagBound ?? '?'} s (gate)`, '']);
    rows.push([
      '   senders waiting on the loop',
      pct(s.waitingShare),
      '',
      '',
      '',
      l.loopLimited ? 'loop-bound' : 'ingest-bound',
    ]);
    rows.push(['   server CPU per event', us(s.serverUsPerEvent), us(b.serverUsPerEvent), '', '', '']);
    rows.push(['   server CPU use (cores)', cores(s.cpu), cores(b.cpu), '', '', '']);
    const paced = (x: LoopRun, label: string) => {
      rows.push([
        `   paced ${n0(x.rate ?? 0)}/s${label}: events/s accepted`,
        n0(x.eventsPerSec),
        '',
        pct(x.eventsPerSec / (x.rate ?? 1)),
        'keeps up',
        x.keepsUp ? 'yes' : 'NO',
      ]);
      rows.push(['     triggers / decisions / deliveries per s', flow(x), '', pct(x.deliveredShare), '', '']);
      rows.push([`     lag p50 / p99${x.drained ? '' : ' (delivered only)'}`, lag(x), '', '', '', '']);
    };
    paced(t, ' (target)');
    if (l.belowTarget) paced(l.belowTarget, ' (80% of sustainable)');
    const runs = [s, t, ...(l.belowTarget ? [l.belowTarget] : [])];
    notes.push(
      `loop: ${l.eventsPerBatch} events per /v1/batch, every ${l.triggerEvery}th a Checkout Started (3 message actions, weight 5, ` +
        `webhooks to a receiver in the bench process); lag = webhook arrival - batch ack, per triggering event acknowledged ` +
        `during the run (drain included). Closed loop: ${s.connections ?? 0} connections, ingest held back while ` +
        `undelivered events exceed ${s.lagBound ?? 0} s of the loop's recent delivery rate. This disk: ` +
        `${n0(l.commits.commitsPerSec)} durable 1-row commits/s (${ms(l.commits.msPerCommit)} each, WAL + synchronous=FULL); ` +
        `decisions, delivery receipts and events each share group commits.`,
    );
    for (const x of runs) {
      const deliveries = Object.entries(x.store.deliveries)
        .map(([k, v]) => `${k} ${n0(v)}`)
        .join(', ');
      const timers = Object.entries(x.store.timers)
        .map(([k, v]) => `${k} ${n0(v)}`)
        .join(', ');
      notes.push(
        `loop ${x.kind}${x.rate === undefined ? '' : ` ${n0(x.rate)}/s`}: ${x.seconds.toFixed(1)} s, ` +
          `${pct(x.actionShare)} of decisions chose a message; backlog at the end ${n0(x.backlogAtEnd)} ` +
          `(${x.drained ? `drained in ${x.drainSeconds.toFixed(1)} s` : 'too large to wait for'}), never delivered ${n0(x.undelivered)}` +
          `${x.skipped > 0 ? `, ${n0(x.skipped)} batches skipped (64 in flight)` : ''}; batch ack p50 ${ms(x.ack.p50)} p99 ${ms(x.ack.p99)}; ` +
          `receiver: ${n0(x.tracker.deliveries)} deliveries (${x.tracker.duplicates} repeated, ${x.tracker.unmatched} unmatched); ` +
          `in SQLite: ${n0(x.store.events)} events, ${n0(x.store.decisions)} decisions (${n0(x.store.decisionsWithAction)} with a message), ` +
          `deliveries ${deliveries || 'none'}, timers ${timers || 'none'}; server ${cores(x.cpu)} cores, ${us(x.serverUsPerEvent)}/event`,
      );
    }
  }
  if (r.timers) {
    const t = r.timers;
    const { store, bare, 'bare-schema': schema } = t.runs;
    const per = (x: number) => `${n0(x)}/s`;
    rows.push([
      `7. timers: fire (due 1000 + delete), timers/s`,
      per(store.fire.perSec),
      `bare SQLite ${per(bare.fire.perSec)}`,
      pct(store.fire.perSec / bare.fire.perSec),
      '',
      '',
    ]);
    rows.push([
      `   insert ${n0(t.timers)} (10k per tx), timers/s`,
      per(store.insert.perSec),
      per(bare.insert.perSec),
      pct(store.insert.perSec / bare.insert.perSec),
      '',
      '',
    ]);
    rows.push([
      "   bare with the store's schema: fire / insert",
      '',
      `${per(schema.fire.perSec)} / ${per(schema.insert.perSec)}`,
      `${pct(store.fire.perSec / schema.fire.perSec)} / ${pct(store.insert.perSec / schema.insert.perSec)}`,
      '',
      '',
    ]);
    rows.push([
      '   peak RSS (VmHWM)',
      `${store.peakRssMb.toFixed(0)} MB`,
      `${bare.peakRssMb.toFixed(0)} MB`,
      '',
      '',
      '',
    ]);
    notes.push(
      `timers: due times random over the hour before now; fired ${n0(store.fired)} / ${n0(bare.fired)} / ${n0(schema.fired)} ` +
        `(store / bare / store's schema) in ${store.fire.seconds.toFixed(1)} / ${bare.fire.seconds.toFixed(1)} / ${schema.fire.seconds.toFixed(1)} s ` +
        `(limit ${t.fireSeconds} s), reads ${pct(store.fireReadSeconds / store.fire.seconds)} / ${pct(bare.fireReadSeconds / bare.fire.seconds)} / ` +
        `${pct(schema.fireReadSeconds / schema.fire.seconds)} of it; left ${n0(store.left)} / ${n0(bare.left)} / ${n0(schema.left)}; ` +
        `files after insert ${store.fileMbAfterInsert.toFixed(0)} / ${bare.fileMbAfterInsert.toFixed(0)} / ${schema.fileMbAfterInsert.toFixed(0)} MB; ` +
        `payload ${n0(store.payloadBytes)} B; RSS after insert ${store.insert.peakRssMb.toFixed(0)} / ${bare.insert.peakRssMb.toFixed(0)} / ${schema.insert.peakRssMb.toFixed(0)} MB`,
    );
  }
  if (r.evaluate) {
    const e = r.evaluate;
    for (const run of e.runs) {
      const label = run.mode === 'plain' ? 'plain (+ uniform)' : `--learn ${run.mode}`;
      rows.push([
        `8. evaluate ${n0(e.rows)} rows, ${label}, s`,
        `${run.seconds.toFixed(1)} s (${n0(run.rowsPerSec)} rows/s, ${run.peakRssMb.toFixed(0)} MB)`,
        run.mode === 'plain' ? `csv-parse alone ${e.baseline.seconds.toFixed(1)} s` : '',
        run.mode === 'plain' ? pct(e.baseline.seconds / run.seconds) : '',
        e.rows >= 1_000_000 ? '<= 30 s' : '',
        e.rows >= 1_000_000 ? verdict(run.seconds <= 30) : '',
      ]);
    }
    notes.push(
      `evaluate: ${e.fileMb.toFixed(0)} MB CSV, ${e.actions} actions (generated in ${e.generateSeconds.toFixed(1)} s); ` +
        `wall time from spawn to exit; csv-parse alone peaks at ${e.baseline.peakRssMb.toFixed(0)} MB; ` +
        `estimates: ${e.runs.map((x) => `${x.mode} ${JSON.stringify({ logging: x.logging, ...x.learned })}`).join('; ')}`,
    );
  }
  const warnings = [
    r.ingest && noise('the pathwise batch run', r.ingest.pathwise.cpu),
    r.ingest && noise('the bare batch run', r.ingest.bare.cpu),
    r.ingest && noise('the durable append batch run', r.ingest.append.cpu),
    r.latency && noise('the pathwise latency runs', r.latency.pathwise.cpu),
    r.latency && noise('the bare latency runs', r.latency.bare.cpu),
    r.decide && noise('the in-process decide run', r.decide.cpu),
    r.decideHttp && noise('the pathwise /v1/decide run', r.decideHttp.pathwise.cpu),
    r.decideHttp && noise('the bare /v1/decide run', r.decideHttp.bare.cpu),
    r.loop && noise('the ingest-only loop baseline', r.loop.baseline.cpu),
    r.loop && noise('the closed-loop orchestration run', r.loop.sustainable.cpu),
    r.loop && noise('the orchestration run at the target rate', r.loop.atTarget.cpu),
    r.timers && noise('the timer store run', r.timers.runs.store.cpu),
    r.timers && noise('the bare timer table run', r.timers.runs.bare.cpu),
    r.machine.distRebuiltDuringRun === true
      ? 'WARNING: dist/ was rebuilt while the benchmarks ran: the figures may mix two builds'
      : undefined,
  ].filter((w): w is string => typeof w === 'string');
  const m = r.machine;
  const out = [
    `Pathwise benchmarks (${r.mode}): ${m.cpus} x ${m.model}, Node ${m.node}, ${m.platform} ${m.release}, ${m.memoryGb} GB, ` +
      `load average at start ${m.loadAtStart.map((x) => x.toFixed(2)).join(' ')}; dist/ built ${m.distBuiltAt}`,
    '',
    table(rows),
    '',
    ...notes,
    ...warnings,
  ];
  if (r.failures.length > 0) out.push('', 'FAILURES:', ...r.failures.map((f) => `  - ${f}`));
  return out.join('\n');
};

/** With --profile: where the server's main thread spent the closed-loop run, by stage of the loop. */
export const formatLoopStages = (p: LoopStages): string =>
  [
    `Server main thread during the closed-loop orchestration run (${(p.windowMs / 1000).toFixed(1)} s measured, ` +
      `${(p.busyMs / 1000).toFixed(1)} s busy; SQLite and fsync count for the code that ran the statement):`,
    ...p.stages.map((s) => `  ${pct(s.share).padStart(6)}  ${s.stage}`),
  ].join('\n');
