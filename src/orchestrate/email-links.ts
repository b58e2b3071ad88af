import { createHash } from 'node:crypto';
import { verifyToken } from '../channels/index.js';
import type { Channel, JsonObject } from '../domain/index.js';
import type { IngestService } from '../ingest/index.js';
import type { Store } from '../store/index.js';

/** Events the email links send back (Segment's email spec names). */
export const EMAIL_OPENED = 'Email Opened';
export const EMAIL_LINK_CLICKED = 'Email Link Clicked';
export const UNSUBSCRIBED = 'Unsubscribed';

const CHANNELS: readonly Channel[] = ['email', 'sms', 'push', 'webhook', 'web'];

/**
 * What the links in an email do when someone follows them: the open pixel and click redirects become events
 * that name the decision (engagement the engine learns from); the unsubscribe link withdraws marketing consent
 * for email. Tokens are checked with the channel's link secret; a bad token changes nothing.
 */
export class EmailLinks {
  constructor(
    private readonly deps: {
      secret: string | undefined;
      ingest: IngestService;
      store: Store;
      consentTrait: () => string;
    },
  ) {}

  async opened(token: string): Promise<boolean> {
    const t = this.check(token, 'open');
    if (t === undefined) return false;
    return this.track(t.profileId, EMAIL_OPENED, `email-open:${t.decisionId}`, { decisionId: t.decisionId });
  }

  /** The target URL when the token is good for it, else undefined (never an open redirect). */
  async clicked(token: string, url: string): Promise<string | undefined> {
    const t = this.check(token, 'click', url);
    if (t === undefined) return undefined;
    const key = createHash('sha256').update(url).digest('base64url').slice(0, 16);
    await this.track(t.profileId, EMAIL_LINK_CLICKED, `email-click:${t.decisionId}:${key}`, {
      decisionId: t.decisionId,
      url,
    });
    return url;
  }

  async unsubscribe(token: string): Promise<boolean> {
    const t = this.check(token, 'unsubscribe');
    if (t === undefined) return false;
    const profile = await this.deps.store.read.getProfile(t.profileId);
    const who = await this.identity(t.profileId);
    if (profile === undefined || who === undefined) return false;
    const trait = this.deps.consentTrait();
    const consent = withdraw(profile.traits[trait], 'marketing', 'email');
    const outcome = await this.deps.ingest.ingestOne('pathwise', 'identify', {
      ...who,
      messageId: `unsubscribe:${t.decisionId}`,
      traits: { [trait]: consent },
    });
    await this.track(t.profileId, UNSUBSCRIBED, `unsubscribed:${t.decisionId}`, {
      decisionId: t.decisionId,
      channel: 'email',
      purpose: 'marketing',
    });
    return outcome.status !== 'rejected';
  }

  private check(token: string, kind: 'open' | 'click' | 'unsubscribe', url?: string) {
    if (this.deps.secret === undefined) return undefined;
    const t = verifyToken(this.deps.secret, token, url);
    return t !== undefined && t.kind === kind ? t : undefined;
  }

  private async identity(
    profileId: string,
  ): Promise<{ userId: string } | { anonymousId: string } | undefined> {
    const ids = await this.deps.store.read.identitiesOf(profileId);
    const user = ids.find((k) => k.kind === 'userId');
    if (user !== undefined) return { userId: user.value };
    const anon = ids.find((k) => k.kind === 'anonymousId');
    return anon === undefined ? undefined : { anonymousId: anon.value };
  }

  private async track(profileId: string, event: string, messageId: string, properties: JsonObject) {
    const who = await this.identity(profileId);
    if (who === undefined) return false;
    const outcome = await this.deps.ingest.ingestOne('pathwise', 'track', {
      ...who,
      event,
      messageId,
      properties,
    });
    return outcome.status !== 'rejected';
  }
}

/**
 * The consent trait after withdrawing one purpose on one channel: `marketing: true` (all channels) becomes
 * a per-channel object with that channel false, so consent for the other channels is kept.
 */
export const withdraw = (held: unknown, purpose: string, channel: Channel): JsonObject => {
  const all: JsonObject =
    held !== null && typeof held === 'object' && !Array.isArray(held) ? { ...(held as JsonObject) } : {};
  const current = all[purpose];
  const perChannel: JsonObject =
    current === true
      ? Object.fromEntries(CHANNELS.map((c) => [c, true]))
      : current !== null && typeof current === 'object' && !Array.isArray(current)
        ? { ...current }
        : {};
  perChannel[channel] = false;
  all[purpose] = perChannel;
  return all;
};
