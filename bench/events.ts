import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * Synthetic Segment calls for the benchmarks: a realistic track / page / identify mix (~300 bytes each,
 * properties and context included) for CUSTOMERS distinct customers, every call with a unique messageId.
 * Seeded, so two runs send the same shapes.
 */

export const CUSTOMERS = 100_000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type SegmentCall = { [key: string]: Json };

export type Rng = () => number;

/** mulberry32: tiny, fast, good enough to pick shapes; not for anything else. */
export const seededRng = (seed: number): Rng => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));

const CATEGORIES = ['shoes', 'shirts', 'outerwear', 'accessories', 'bags', 'sport', 'kids', 'home'] as const;
const PAGES = [
  ['Home', '/'],
  ['Category', '/c/'],
  ['Search', '/search?q=run'],
  ['Cart', '/cart'],
  ['Account', '/account'],
] as const;
const LOCALES = ['en-GB', 'en-US', 'de-DE', 'fr-FR', 'nl-NL'] as const;
const PLANS = ['free', 'plus', 'pro'] as const;

/** Width of the customer number inside ids (`usr_004217`). */
export const CUSTOMER_DIGITS = 6;
/** Width of the sequence part of a messageId. */
export const SEQ_DIGITS = 14;

/** Ids of one customer: the same person always has the same userId, anonymousId and email. */
const ids = (c: string) => ({
  userId: `usr_${c}`,
  anonymousId: `anon_${c}`,
  email: `customer${c}@example.com`,
});

export const customerToken = (n: number): string => String(n).padStart(CUSTOMER_DIGITS, '0');
export const messageIdOf = (runTag: string, seq: number): string =>
  `bm-${runTag}-${String(seq).padStart(SEQ_DIGITS, '0')}`;

/**
 * One Segment call for customer token `c` (6 digits, or a placeholder of the same width in templates).
 * Mix: 40% Product Viewed, 8% Product Added, 4% Order Completed, 3% Signed In, 30% page, 15% identify.
 * 20% of track/page calls are anonymous (anonymousId only); 60% of the others carry both ids.
 */
export const makeCall = (rng: Rng, c: string, messageId: string, at: number): SegmentCall => {
  const who = ids(c);
  const r = rng();
  const context: SegmentCall = {
    ip: `10.${int(rng, 0, 255)}.${int(rng, 0, 255)}.${int(rng, 1, 254)}`,
    locale: pick(rng, LOCALES),
    library: { name: 'analytics.js', version: '5.2.1' },
  };
  const timestamp = new Date(at).toISOString();
  if (r >= 0.85) {
    return {
      type: 'identify',
      messageId,
      userId: who.userId,
      ...(rng() < 0.6 ? { anonymousId: who.anonymousId } : {}),
      timestamp,
      traits: {
        email: who.email,
        name: `Customer ${c}`,
        plan: pick(rng, PLANS),
        newsletter: rng() < 0.4,
      },
      context,
    };
  }
  const idPart: SegmentCall =
    rng() < 0.2
      ? { anonymousId: who.anonymousId }
      : { userId: who.userId, ...(rng() < 0.6 ? { anonymousId: who.anonymousId } : {}) };
  const category = pick(rng, CATEGORIES);
  const productId = `p${int(rng, 1000, 9999)}`;
  const price = int(rng, 500, 25_000) / 100;
  if (r >= 0.55) {
    const [name, path] = pick(rng, PAGES);
    const full = path === '/c/' ? `${path}${category}` : path;
    return {
      type: 'page',
      messageId,
      ...idPart,
      name,
      timestamp,
      properties: { path: full, url: `https://shop.example.com${full}`, title: `${name} | Shop` },
      context,
    };
  }
  let event: string;
  let properties: SegmentCall;
  if (r < 0.4) {
    event = 'Product Viewed';
    properties = { product_id: productId, category, price };
  } else if (r < 0.48) {
    event = 'Product Added';
    properties = { product_id: productId, category, price, quantity: int(rng, 1, 3) };
  } else if (r < 0.52) {
    event = 'Order Completed';
    properties = { order_id: `o${int(rng, 1, 1e9)}`, total: price * int(rng, 1, 4), currency: 'EUR' };
  } else {
    event = 'Signed In';
    properties = { method: pick(rng, ['password', 'google', 'apple']) };
  }
  return { type: 'track', messageId, ...idPart, event, timestamp, properties, context };
};

/** Event times spread over the last week, so windowed computed traits (7d, 30d) see them. */
const WEEK_MS = 7 * 24 * 3600 * 1000;
export const eventTime = (rng: Rng, now: number): number => now - Math.floor(rng() * WEEK_MS);

/** Writes `n` digits of `value` (zero-padded) into `buf` at `offset`. */
const writeDigits = (buf: Buffer, offset: number, width: number, value: number): void => {
  let v = value;
  for (let k = width - 1; k >= 0; k--) {
    buf[offset + k] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
};

interface BatchTemplate {
  body: Buffer;
  /** Offset of each event's messageId sequence digits (one per event, in event order). */
  idSlots: Int32Array;
  /** Offsets of every customer-number occurrence, and which event each belongs to. */
  customerSlots: Int32Array;
  customerSlotEvent: Int32Array;
  events: number;
}

const ID_HOLE = '#'.repeat(SEQ_DIGITS);
const CUSTOMER_HOLE = '@'.repeat(CUSTOMER_DIGITS);

const buildTemplate = (rng: Rng, runTag: string, size: number, now: number): BatchTemplate => {
  const head = '{"batch":[';
  const tail = `],"sentAt":${JSON.stringify(new Date(now).toISOString())}}`;
  const idSlots: number[] = [];
  const customerSlots: number[] = [];
  const customerSlotEvent: number[] = [];
  let text = head;
  for (let i = 0; i < size; i++) {
    if (i > 0) text += ',';
    const json = JSON.stringify(makeCall(rng, CUSTOMER_HOLE, `bm-${runTag}-${ID_HOLE}`, eventTime(rng, now)));
    idSlots.push(text.length + json.indexOf(ID_HOLE));
    for (
      let at = json.indexOf(CUSTOMER_HOLE);
      at >= 0;
      at = json.indexOf(CUSTOMER_HOLE, at + CUSTOMER_DIGITS)
    ) {
      customerSlots.push(text.length + at);
      customerSlotEvent.push(i);
    }
    text += json;
  }
  text += tail;
  // Offsets are byte offsets only because every generated string is ASCII.
  if (Buffer.byteLength(text) !== text.length) throw new Error('bench events must be ASCII');
  return {
    body: Buffer.from(text),
    idSlots: Int32Array.from(idSlots),
    customerSlots: Int32Array.from(customerSlots),
    customerSlotEvent: Int32Array.from(customerSlotEvent),
    events: size,
  };
};

/**
 * Request bodies for `/v1/batch`: a pool of distinct batch templates whose messageIds and customers are
 * rewritten in place per request (a copy and a few hundred digit writes, ~µs), so every event sent in a run
 * has a unique messageId and customers are drawn afresh across CUSTOMERS, without building JSON per request.
 */
export class BatchSource {
  private readonly templates: BatchTemplate[];
  private readonly rng: Rng;
  private seq = 0;
  private nextTemplate = 0;
  /** Bodies handed out so far (requests issued). */
  issued = 0;

  constructor(opts: { seed: number; runTag: string; pool: number; eventsPerBatch: number; now: number }) {
    const rng = seededRng(opts.seed);
    this.rng = seededRng(opts.seed ^ 0x5bd1e995);
    this.templates = Array.from({ length: opts.pool }, () =>
      buildTemplate(rng, opts.runTag, opts.eventsPerBatch, opts.now),
    );
  }

  get eventsPerBatch(): number {
    return this.templates[0]?.events ?? 0;
  }

  /** Mean body size in bytes and mean event size, for the report. */
  get sizes(): { bodyBytes: number; eventBytes: number } {
    const total = this.templates.reduce((s, t) => s + t.body.length, 0);
    const bodyBytes = total / this.templates.length;
    return { bodyBytes, eventBytes: bodyBytes / this.eventsPerBatch };
  }

  next(): Buffer {
    const t = this.templates[this.nextTemplate] as BatchTemplate;
    this.nextTemplate = (this.nextTemplate + 1) % this.templates.length;
    const body = Buffer.from(t.body);
    const customers = new Int32Array(t.events);
    for (let i = 0; i < t.events; i++) {
      writeDigits(body, t.idSlots[i] as number, SEQ_DIGITS, this.seq++);
      customers[i] = Math.floor(this.rng() * CUSTOMERS);
    }
    for (let k = 0; k < t.customerSlots.length; k++) {
      const customer = customers[t.customerSlotEvent[k] as number] as number;
      writeDigits(body, t.customerSlots[k] as number, CUSTOMER_DIGITS, customer);
    }
    this.issued++;
    return body;
  }
}

/** Single `/v1/track` bodies (a Product Viewed call), each with a fresh messageId and customer. */
export class TrackSource {
  private readonly rng: Rng;
  private seq = 0;
  constructor(
    seed: number,
    private readonly runTag: string,
  ) {
    this.rng = seededRng(seed);
  }

  next(): string {
    const c = customerToken(Math.floor(this.rng() * CUSTOMERS));
    let call = makeCall(this.rng, c, messageIdOf(this.runTag, this.seq), Date.now());
    while (call.type !== 'track')
      call = makeCall(this.rng, c, messageIdOf(this.runTag, this.seq), Date.now());
    this.seq++;
    return JSON.stringify(call);
  }
}

/**
 * Streams `n` calls as JSON Lines into `file` (bounded memory: lines are written in chunks and the
 * writer waits for the stream to drain). Returns the file size in bytes.
 */
export const writeJsonl = async (file: string, n: number, seed: number, runTag: string): Promise<number> => {
  const rng = seededRng(seed);
  const now = Date.now();
  const out = createWriteStream(file);
  let bytes = 0;
  const CHUNK = 1000;
  for (let i = 0; i < n; i += CHUNK) {
    let chunk = '';
    for (let k = i; k < Math.min(n, i + CHUNK); k++) {
      const c = customerToken(Math.floor(rng() * CUSTOMERS));
      chunk += `${JSON.stringify(makeCall(rng, c, messageIdOf(runTag, k), eventTime(rng, now)))}\n`;
    }
    bytes += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
};
