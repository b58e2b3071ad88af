import { pino } from 'pino';
import type { PathwiseConfig } from '../config/index.js';
import { fixedClock } from '../domain/index.js';
import { openRuntime, serverFor } from '../runtime.js';
import { seededRng, type Rng } from '../learn/index.js';
import {
  organicSurvives,
  planMessage,
  planOrganic,
  streamSeed,
  ScenarioError,
  type OrganicPlan,
  type Outcome,
  type SimCustomer,
  type World,
} from '../sim/index.js';
import { Agenda } from './agenda.js';
import { freePort } from './free-port.js';
import { checkWorkspace, pointAtSinks } from './workspace.js';
import { httpSender, injectSender, type Sender } from './sender.js';
import { startSmtpSink } from './smtp-sink.js';
import { startWebhookSink } from './webhook-sink.js';

/** Where the simulated customers' addresses point: the index is in each, so a message finds its customer. */
const EMAIL_DOMAIN = 'sim.example';
const emailOf = (c: SimCustomer) => `${c.id}@${EMAIL_DOMAIN}`;
const indexOf = (address: unknown): number | undefined => {
  const m = typeof address === 'string' ? /^sim-(\d+)@/.exec(address) : null;
  return m === null ? undefined : Number(m[1]);
};
/** Engagement events for messages without tracking links (SMS, push, webhook): the app reports them. */
export const MESSAGE_OPENED = 'Message Opened';
export const MESSAGE_CLICKED = 'Message Clicked';
/** Email links in-process point at this host; only their paths are used. */
const SIM_PUBLIC_URL = 'http://pathwise.sim';

export interface ProductRunOptions {
  world: World;
  /** The scenario's workspace, parsed; its channel endpoints are replaced by the local receivers. */
  config: PathwiseConfig;
  /** The workspace file (templates are found beside it). */
  configFile: string;
  /** A fresh SQLite file for this run. */
  db: string;
  /** Seeds the engine's randomness. */
  seed: number;
  /** Serve the product's HTTP API at this URL (`http://127.0.0.1:0` for any free port) and send over sockets. */
  http?: string;
  onProgress?: (arrived: number) => void;
  /** Checked every tick: true stops the run with a SimulationInterrupted (Ctrl-C). */
  shouldStop?: () => boolean;
}

/** The run was stopped before its end (`shouldStop`); nothing was measured. */
export class SimulationInterrupted extends Error {
  constructor() {
    super('simulation interrupted');
    this.name = 'SimulationInterrupted';
  }
}

export interface ProductRunResult {
  outcomes: Outcome[];
  /** What went through the product. */
  traffic: { requests: number; emails: number; webhooks: number; ticks: number; url?: string };
  /** Warnings and errors the product logged (the first few). */
  problems: string[];
}

interface Move {
  at: number;
  kind: 'arrive' | 'open' | 'click' | 'order' | 'organic';
  index: number;
  /** For opens and clicks: the tracking link path (email), or the decision id (other channels). */
  link?: string;
  decisionId?: string;
  value?: number;
  by?: string;
}

interface CustomerState {
  c: SimCustomer;
  rng: Rng;
  organic: OrganicPlan;
  received: Array<{ actionId: string; at: number }>;
  order?: { at: number; value: number; by: string };
  horizonEnd: number;
}

/**
 * Runs the world's customers through the real product, the autonomous policy deciding: a runtime
 * (`openRuntime`) on its own SQLite file, with a clock the driver moves; customers' events go through the
 * ingest routes (in-process `inject`, or HTTP with `http`); the engine loop's messages arrive at a local SMTP
 * server and a local webhook receiver; each customer reacts to them with the scenario's response model
 * (opens through the email pixel or an `Message Opened` event, clicks through the click redirect or
 * `Message Clicked`, orders as the goal event). Simulated time moves in ticks: the events due in a tick are
 * sent, the clock is set to the tick's end, the engine loop runs once (decisions, deliveries, response
 * windows) and decisions whose attribution window ended are settled.
 */
export const runProduct = async (opts: ProductRunOptions): Promise<ProductRunResult> => {
  const { world } = opts;
  const s = world.scenario;
  const issues = checkWorkspace(world, opts.config);
  if (issues.length > 0) throw new ScenarioError(issues);
  const writeKey = (opts.config.sources[0] as { writeKey: string }).writeKey;
  const problems: string[] = [];
  const logger = pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        if (problems.length < 20) problems.push(line.trim());
      },
    },
  );
  const smtp = await startSmtpSink();
  const hooks = await startWebhookSink();
  const listen = opts.http === undefined ? undefined : new URL(opts.http);
  const clock = fixedClock(world.start);
  const subjects = new Map<string, string>();
  for (const a of opts.config.actions)
    if (a.content.subject !== undefined) subjects.set(a.content.subject, a.id);
  // With --http, the email links must point at the listening server: fix its port first (0: a free one).
  const url =
    listen === undefined
      ? undefined
      : `http://${listen.hostname}:${listen.port === '' || listen.port === '0' ? await freePort(listen.hostname) : listen.port}`;
  const rt = await openRuntime({
    config: pointAtSinks(opts.config, smtp.port, hooks.url, url ?? SIM_PUBLIC_URL),
    db: opts.db,
    env: {},
    logger,
    clock,
    configFile: opts.configFile,
    seed: opts.seed,
  }).catch(async (err: unknown) => {
    await smtp.close();
    await hooks.close();
    throw err;
  });
  const app = serverFor(rt);
  let sender: Sender;
  try {
    if (url !== undefined) {
      const { hostname, port } = new URL(url);
      await app.listen({ host: hostname, port: Number(port) });
      sender = httpSender(url, writeKey);
    } else {
      await app.ready();
      sender = injectSender(app, writeKey);
    }
  } catch (err) {
    await app.close().catch(() => undefined);
    await rt.close().catch(() => undefined);
    await smtp.close();
    await hooks.close();
    throw err;
  }

  const agenda = new Agenda<Move>();
  const customers = new Map<number, CustomerState>();
  const outcomes: Outcome[] = new Array<Outcome>(world.customers);
  const traffic = { requests: 0, emails: 0, webhooks: 0, ticks: 0 };
  let arrived = 0;
  let nextArrival = 0;
  const iso = (t: number) => new Date(t).toISOString();
  const post = async (path: string, body: object) => {
    traffic.requests++;
    const status = await sender.post(path, body);
    if (status >= 300 && problems.length < 20) problems.push(`POST ${path}: HTTP ${status}`);
  };
  const get = async (path: string) => {
    traffic.requests++;
    const status = await sender.get(path);
    if (status >= 400 && problems.length < 20) problems.push(`GET ${path.slice(0, 40)}…: HTTP ${status}`);
  };

  const placeOrder = async (st: CustomerState, at: number, value: number, by: string) => {
    st.order = { at, value, by };
    await post('/v1/track', {
      userId: st.c.id,
      event: s.goal.event,
      messageId: `order-${st.c.id}`,
      properties: { order_id: `o-${st.c.id}`, [s.goal.valueProperty]: value },
      timestamp: iso(at),
    });
  };

  const perform = async (m: Move) => {
    if (m.kind === 'arrive') {
      const c = world.customer(m.index);
      const rng = seededRng(streamSeed(world.seed, c.index, 1));
      const st: CustomerState = {
        c,
        rng,
        organic: planOrganic(world, c, rng),
        received: [],
        horizonEnd: c.arrivesAt + s.timing.horizon,
      };
      customers.set(c.index, st);
      arrived++;
      if (st.organic.at !== undefined) agenda.push({ at: st.organic.at, kind: 'organic', index: c.index });
      await post('/v1/batch', {
        batch: [
          {
            type: 'identify',
            userId: c.id,
            timestamp: iso(m.at),
            traits: {
              ...c.traits,
              email: emailOf(c),
              phone: `+1555${String(c.index).padStart(7, '0')}`,
              push_token: `push-${c.id}`,
              consent: { marketing: true },
            },
          },
          {
            type: 'track',
            userId: c.id,
            event: s.trigger.event,
            timestamp: iso(m.at),
            properties: { ...s.trigger.properties, category: c.category, product_id: `p-${c.category}` },
          },
        ],
      });
      return;
    }
    const st = customers.get(m.index) as CustomerState;
    if (m.kind === 'open' || m.kind === 'click') {
      if (m.link !== undefined) await get(m.link);
      else
        await post('/v1/track', {
          userId: st.c.id,
          event: m.kind === 'open' ? MESSAGE_OPENED : MESSAGE_CLICKED,
          messageId: `${m.kind}-${m.decisionId}`,
          properties: { decisionId: m.decisionId },
          timestamp: iso(m.at),
        });
    } else if (st.order === undefined) {
      if (m.kind === 'order') await placeOrder(st, m.at, m.value as number, m.by as string);
      else if (organicSurvives(world, st.c, st.organic, st.received.filter((r) => r.at < m.at).length))
        await placeOrder(st, m.at, st.organic.value, 'organic');
    }
  };

  /** A message reached customer `index`: they plan their reaction (the same draws as in the pure simulator). */
  const received = (
    index: number | undefined,
    actionId: string | undefined,
    now: number,
    links: { open?: string; click?: string; decisionId?: string },
  ) => {
    const st = index === undefined ? undefined : customers.get(index);
    const action = actionId === undefined ? undefined : s.actions[actionId];
    if (st === undefined || action === undefined || actionId === undefined) {
      if (problems.length < 20)
        problems.push(`a message the simulator cannot place: ${actionId ?? '?'} to ${index ?? '?'}`);
      return;
    }
    st.received.push({ actionId, at: now });
    const plan = planMessage(world, st.c, action, now, st.received.length, st.rng);
    const base = {
      index: st.c.index,
      ...(links.decisionId === undefined ? {} : { decisionId: links.decisionId }),
    };
    if (plan.openAt !== undefined && plan.openAt <= st.horizonEnd)
      agenda.push({
        ...base,
        at: plan.openAt,
        kind: 'open',
        ...(links.open === undefined ? {} : { link: links.open }),
      });
    if (plan.clickAt !== undefined && plan.clickAt <= st.horizonEnd)
      agenda.push({
        ...base,
        at: plan.clickAt,
        kind: 'click',
        ...(links.click === undefined ? {} : { link: links.click }),
      });
    if (plan.convertAt !== undefined && plan.convertAt <= st.horizonEnd)
      agenda.push({ ...base, at: plan.convertAt, kind: 'order', value: plan.value, by: actionId });
  };

  const collect = (now: number) => {
    for (const mail of smtp.take()) {
      traffic.emails++;
      const open = /\/v1\/t\/o\/[A-Za-z0-9_.~-]+/.exec(mail.body)?.[0];
      const click = /\/v1\/t\/c\/[^"'\s<>]+/.exec(mail.body)?.[0]?.replaceAll('&amp;', '&');
      received(indexOf(mail.to[0]), subjects.get(mail.headers.get('subject') ?? ''), now, {
        ...(open === undefined ? {} : { open }),
        ...(click === undefined ? {} : { click }),
      });
    }
    for (const r of hooks.take()) {
      traffic.webhooks++;
      const to = r.json.to as { email?: string } | undefined;
      received(indexOf(to?.email), String(r.json.actionId), now, { decisionId: String(r.json.decisionId) });
    }
  };

  try {
    const tick = s.timing.tick;
    for (let t = world.start; t <= world.end + tick; t += tick) {
      if (opts.shouldStop?.() === true) throw new SimulationInterrupted();
      traffic.ticks++;
      while (nextArrival < world.customers && world.customer(nextArrival).arrivesAt <= t) {
        agenda.push({ at: world.customer(nextArrival).arrivesAt, kind: 'arrive', index: nextArrival });
        nextArrival++;
      }
      for (let m = agenda.popDue(t); m !== undefined; m = agenda.popDue(t)) {
        if (m.at > clock.now()) clock.set(m.at);
        await perform(m);
      }
      clock.set(t);
      await rt.loop.runOnce();
      collect(t);
      await rt.outcomes.sweep();
      opts.onProgress?.(arrived);
    }
  } finally {
    await app.close();
    await rt.close();
    await smtp.close();
    await hooks.close();
  }
  for (const [index, st] of customers) {
    const order = st.order;
    outcomes[index] = {
      index,
      persona: st.c.persona,
      converted: order !== undefined,
      value: order?.value ?? 0,
      cost: st.received.reduce((sum, r) => sum + (s.actions[r.actionId]?.cost ?? 0), 0),
      path: st.received.filter((r) => order === undefined || r.at <= order.at).map((r) => r.actionId),
      by: order?.by ?? null,
    };
  }
  return { outcomes, traffic: { ...traffic, ...(url === undefined ? {} : { url }) }, problems };
};
