import type { OutboundMessage } from '../channel.js';
import type { RenderedEmail } from './content.js';
import type { MessageLinks } from './tracking.js';

/** The email headers this channel sets. */
export const EMAIL_HEADERS = {
  delivery: 'X-Pathwise-Delivery',
  listUnsubscribe: 'List-Unsubscribe',
  listUnsubscribePost: 'List-Unsubscribe-Post',
} as const;

/** RFC 5322 `dot-atom-text`: what a Message-ID's left part may be without quoting. */
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;

/**
 * `<idempotencyKey@pathwise>`: every attempt of one delivery carries the same Message-ID, so a receiver (or a
 * person) can tell a resend from a second message. A key that is not a valid dot-atom is base64url-encoded,
 * which is one, and stays unique.
 */
export const messageIdFor = (idempotencyKey: string): string =>
  `<${DOT_ATOM.test(idempotencyKey) ? idempotencyKey : Buffer.from(idempotencyKey).toString('base64url')}@pathwise>`;

/** A single plain address: no display name, list, or anything that would add recipients or headers. */
const PLAIN_ADDRESS = /^[^\s@,;:<>()"[\]\\]+@[^\s@,;:<>()"[\]\\]+$/;

/** The customer's address from the `email` trait, or why there is none to send to. */
export const recipientOf = (message: OutboundMessage): { to: string } | { reason: string } => {
  const email = message.profile.traits['email'];
  if (email === undefined || email === null || email === '') return { reason: 'profile has no email trait' };
  if (typeof email !== 'string' || !PLAIN_ADDRESS.test(email.trim())) {
    return { reason: 'the profile email trait is not a single email address' };
  }
  return { to: email.trim() };
};

/** The nodemailer message: both parts, the one-click unsubscribe headers (RFC 8058) and a stable Message-ID. */
export const buildMail = (
  message: OutboundMessage,
  parts: { from: string; to: string; date: Date; links: MessageLinks; email: RenderedEmail },
) => ({
  from: parts.from,
  to: parts.to,
  subject: parts.email.subject,
  html: parts.email.html,
  text: parts.email.text,
  date: parts.date,
  messageId: messageIdFor(message.idempotencyKey),
  headers: {
    [EMAIL_HEADERS.listUnsubscribe]: `<${parts.links.unsubscribe}>`,
    [EMAIL_HEADERS.listUnsubscribePost]: 'List-Unsubscribe=One-Click',
    [EMAIL_HEADERS.delivery]: message.deliveryId,
  },
  // Content comes from templates and customer traits: never let it make nodemailer read files or URLs.
  disableFileAccess: true,
  disableUrlAccess: true,
});
