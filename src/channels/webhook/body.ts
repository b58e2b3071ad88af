import type { JsonObject } from '../../domain/index.js';
import type { OutboundMessage } from '../channel.js';
import { renderPayload, renderTemplate } from '../render.js';

/** The JSON a webhook receives. `content` is whatever the action's content renders to. */
export interface WebhookBody {
  deliveryId: string;
  decisionId: string;
  actionId: string;
  channel: string;
  profileId: string;
  /** Addresses from the profile's `phone`, `email` and `push_token` traits, when they are strings. */
  to: { phone?: string; email?: string; pushToken?: string };
  content: unknown;
}

const ADDRESS_TRAITS = { phone: 'phone', email: 'email', pushToken: 'push_token' } as const;

const addresses = (traits: JsonObject): WebhookBody['to'] => {
  const to: WebhookBody['to'] = {};
  for (const [field, trait] of Object.entries(ADDRESS_TRAITS)) {
    const value = traits[trait];
    if (typeof value === 'string' && value !== '') to[field as keyof WebhookBody['to']] = value;
  }
  return to;
};

/**
 * Renders the action's content over `{ profile, context, decision: { id } }`: its `payload` with every string
 * rendered, or `{ body }` when there is no payload (`{}` when there is neither). Throws a TemplateError.
 */
export const buildWebhookBody = async (message: OutboundMessage): Promise<WebhookBody> => {
  const vars = { profile: message.profile, context: message.context, decision: { id: message.decisionId } };
  const { payload, body } = message.action.content;
  let content: unknown;
  if (payload !== undefined) content = await renderPayload(payload, vars);
  else if (body !== undefined) content = { body: await renderTemplate(body, vars) };
  else content = {};
  return {
    deliveryId: message.deliveryId,
    decisionId: message.decisionId,
    actionId: message.action.id,
    channel: message.action.channel,
    profileId: message.profile.id,
    to: addresses(message.profile.traits),
    content,
  };
};
