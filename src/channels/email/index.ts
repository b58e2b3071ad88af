import nodemailer from 'nodemailer';
import type { EmailChannelConfig } from '../../config/index.js';
import { PathwiseError } from '../../errors.js';
import type { ChannelAdapter, DeliveryResult, OutboundMessage } from '../channel.js';
import { TemplateError } from '../render.js';
import { expandEnv } from '../secrets.js';
import { renderEmail, templateVariables, type RenderedEmail } from './content.js';
import { buildMail, recipientOf } from './message.js';
import { smtpFailure } from './smtp-result.js';
import { loadTemplateFiles, type TemplateFiles } from './templates.js';
import { addOpenPixel, messageLinks, rewriteLinks } from './tracking.js';

export { checkEmailTemplates, type EmailTemplateIssue } from './check.js';
export { signToken, verifyToken, type TokenKind, type TokenPayload } from './tokens.js';
export { EMAIL_HEADERS, messageIdFor } from './message.js';
export { htmlToText } from './html-text.js';
export type { EmailChannelConfig } from '../../config/index.js';

export interface EmailChannelDeps {
  /** Where `${NAME}` references in `smtp.user`, `smtp.pass` and `linkSecret` are read from. */
  env: NodeJS.ProcessEnv;
  /** The templates folder, absolute (config's `templates` resolved against the config file's folder). */
  templatesDir: string;
  /** Epoch milliseconds, for the Date header. */
  now: () => number;
}

/** Transport settings that are not in the config: bounded waits, so a stuck server costs one retry, not a worker. */
const SMTP_DEFAULTS = {
  pool: true,
  maxConnections: 5,
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 30_000,
} as const;

const MIN_SECRET_LENGTH = 16;

/**
 * The key that signs this channel's links, `${VAR}` expanded: the tracking and unsubscribe routes verify
 * tokens with it. Throws PW_ERR_CONFIG_INVALID when a variable is unset or the key is too short.
 */
export const emailLinkSecret = (config: EmailChannelConfig, env: NodeJS.ProcessEnv): string => {
  const field = 'channels.email.linkSecret';
  const secret = expandEnv(config.linkSecret, env, field);
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new PathwiseError(
      'PW_ERR_CONFIG_INVALID',
      `${field}: the secret is ${secret.length} characters after expanding \${…}; use at least ${MIN_SECRET_LENGTH}`,
      { field },
    );
  }
  return secret;
};

const failed = (retryable: boolean, reason: string): DeliveryResult => ({
  status: 'failed',
  retryable,
  reason,
});

/**
 * Email over SMTP (nodemailer): Liquid or MJML templates, a plain-text part, signed open and click tracking,
 * one-click unsubscribe headers and a Message-ID that is the same on every attempt. Throws
 * PW_ERR_CONFIG_INVALID at creation when a `${VAR}` is not set; `send` never throws.
 */
export const createEmailChannel = (config: EmailChannelConfig, deps: EmailChannelDeps): ChannelAdapter => {
  const secret = emailLinkSecret(config, deps.env);
  const credential = (key: 'user' | 'pass') => {
    const value = config.smtp[key];
    return value === undefined ? undefined : expandEnv(value, deps.env, `channels.email.smtp.${key}`);
  };
  const user = credential('user');
  const pass = credential('pass');
  const transport = nodemailer.createTransport({
    ...SMTP_DEFAULTS,
    host: config.smtp.host,
    port: config.smtp.port,
    secure: config.smtp.secure,
    ...(user === undefined ? {} : { auth: { user, pass } }),
  });
  const ownLinks = `${config.publicUrl.replace(/\/+$/, '')}/v1/`;
  // Template files are read once per channel; a config reload makes a new channel and so reads them again.
  const templates = new Map<string, Promise<TemplateFiles>>();
  const load = (name: string): Promise<TemplateFiles> => {
    let files = templates.get(name);
    if (files === undefined) {
      files = loadTemplateFiles(deps.templatesDir, name);
      // A missing file may be added later: do not remember failures.
      files.catch(() => templates.delete(name));
      templates.set(name, files);
    }
    return files;
  };
  let closed = false;

  const send = async (message: OutboundMessage): Promise<DeliveryResult> => {
    if (closed) return failed(true, 'channel closed');
    const recipient = recipientOf(message);
    if ('reason' in recipient) return failed(false, recipient.reason);
    const links = messageLinks(config.publicUrl, secret, {
      decisionId: message.decisionId,
      profileId: message.profile.id,
    });
    let email: RenderedEmail;
    try {
      email = await renderEmail(message.action.content, templateVariables(message, links.unsubscribe), load);
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      return failed(false, `template: ${e instanceof TemplateError ? text : `unexpected error: ${text}`}`);
    }
    const html = addOpenPixel(
      rewriteLinks(email.html, links.click, (url) => url.startsWith(ownLinks)),
      links.open,
    );
    const mail = buildMail(message, {
      from: config.from,
      to: recipient.to,
      date: new Date(deps.now()),
      links,
      email: { ...email, html },
    });
    try {
      const info = await transport.sendMail(mail);
      return { status: 'sent', providerId: info.messageId };
    } catch (e) {
      return smtpFailure(e);
    }
  };

  return {
    send,
    close: async () => {
      closed = true;
      transport.close();
    },
  };
};
