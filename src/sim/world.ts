import { normal, seededRng, type Rng } from '../learn/index.js';
import type { Hidden, Persona, Scenario } from './scenario.js';

const HOUR = 3_600_000;

/** One simulated customer: what the product may learn (id, visible traits, the browsed category) and who they are. */
export interface SimCustomer {
  /** Position in the arrival order, from 0. */
  index: number;
  /** The userId the customer is known by. */
  id: string;
  persona: string;
  /** Visible traits, sent with identify: the only clue to the persona a policy gets. */
  traits: Record<string, string>;
  /** The category browsed on arrival (a property of the trigger event), drawn in proportion to interest. */
  category: string;
  arrivesAt: number;
  /** Individual variation: multipliers of the persona's hidden probabilities. */
  scale: { base: number; channels: Record<string, number>; interests: Record<string, number> };
}

/** A scenario instantiated for one run: its population, timeline and drift, all reproducible from the seed. */
export interface World {
  scenario: Scenario;
  customers: number;
  seed: number;
  start: number;
  /** When the last customer arrives. */
  lastArrival: number;
  /** The end of the last customer's horizon. */
  end: number;
  customer(index: number): SimCustomer;
  /** The customer's hidden preferences at time `at` (drift applied, individual variation included). */
  hidden(c: SimCustomer, at: number): Hidden;
}

/** Independent streams per customer and purpose: `stream` 0 draws the customer, 1 their responses. */
export const streamSeed = (seed: number, index: number, stream: number): number =>
  seed * 4_194_304 + index * 4 + stream;

const pick = (weights: Record<string, number>, rng: Rng): string => {
  const entries = Object.entries(weights);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let u = rng.next() * total;
  for (const [k, w] of entries) {
    u -= w;
    if (u < 0) return k;
  }
  return (entries[entries.length - 1] as [string, number])[0];
};

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

export const createWorld = (scenario: Scenario, opts: { customers?: number; seed?: number } = {}): World => {
  const customers = opts.customers ?? scenario.customers;
  const seed = opts.seed ?? scenario.seed;
  const start = Date.parse(scenario.timing.start);
  const spacing = HOUR / scenario.timing.arrivalsPerHour;
  const lastArrival = start + (customers - 1) * spacing;
  const shares = Object.fromEntries(scenario.population.map((p) => [p.name, p.share]));
  const personas = new Map<string, Persona>(scenario.population.map((p) => [p.name, p]));
  // Drift happens at a point of the arrivals: a time, the same for every policy.
  const drifts = scenario.drift
    .map((d) => ({ ...d, time: start + d.at * customers * spacing }))
    .sort((a, b) => a.time - b.time);
  const cache = new Map<number, SimCustomer>();

  const customer = (index: number): SimCustomer => {
    const known = cache.get(index);
    if (known !== undefined) return known;
    const rng = seededRng(streamSeed(seed, index, 0));
    const persona = personas.get(pick(shares, rng)) as Persona;
    const traits: Record<string, string> = {};
    for (const [name, dist] of Object.entries(persona.traits)) traits[name] = pick(dist, rng);
    const category = pick(persona.interests, rng);
    const jitter = () => Math.exp(scenario.response.jitter * normal(rng));
    const channels: Record<string, number> = {};
    for (const ch of Object.keys(persona.channels)) channels[ch] = jitter();
    const interests: Record<string, number> = {};
    for (const cat of Object.keys(persona.interests)) interests[cat] = jitter();
    const c: SimCustomer = {
      index,
      id: `sim-${String(index).padStart(6, '0')}`,
      persona: persona.name,
      traits,
      category,
      arrivesAt: start + index * spacing,
      scale: { base: jitter(), channels, interests },
    };
    if (cache.size > 200_000) cache.clear();
    cache.set(index, c);
    return c;
  };

  const hidden = (c: SimCustomer, at: number): Hidden => {
    const p = personas.get(c.persona) as Persona;
    let h: Hidden = {
      baseRate: p.baseRate,
      channels: { ...p.channels },
      interests: { ...p.interests },
      priceSensitivity: p.priceSensitivity,
      activeHours: p.activeHours,
      fatigue: p.fatigue,
      orderValue: p.orderValue,
    };
    for (const d of drifts) {
      if (d.time > at) break;
      if (d.persona !== c.persona) continue;
      h = {
        ...h,
        ...d.set,
        channels: { ...h.channels, ...d.set.channels },
        interests: { ...h.interests, ...d.set.interests },
      };
    }
    const channels: Hidden['channels'] = {};
    for (const [ch, v] of Object.entries(h.channels)) {
      channels[ch as keyof Hidden['channels']] = clamp01((v ?? 0) * (c.scale.channels[ch] ?? 1));
    }
    const interests: Record<string, number> = {};
    for (const [cat, v] of Object.entries(h.interests))
      interests[cat] = clamp01(v * (c.scale.interests[cat] ?? 1));
    return { ...h, baseRate: clamp01(h.baseRate * c.scale.base), channels, interests };
  };

  return {
    scenario,
    customers,
    seed,
    start,
    lastArrival,
    end: lastArrival + scenario.timing.horizon,
    customer,
    hidden,
  };
};
