import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkEmailTemplates, htmlToText, signToken, verifyToken } from '../../src/channels/email/index.js';
import { smtpFailure } from '../../src/channels/email/smtp-result.js';
import type { ActionConfig } from '../../src/config/index.js';

const templatesDir = fileURLToPath(new URL('./fixtures/templates/', import.meta.url));
const SECRET = 'test-link-secret-0123456789';

const email = (content: ActionConfig['content']) => ({ channel: 'email' as const, content });

describe('checkEmailTemplates', () => {
  it('accepts good templates and ignores other channels', async () => {
    const issues = await checkEmailTemplates(
      [
        email({ template: 'welcome', subject: 'Hi {{ profile.traits.first_name }}' }),
        email({ template: 'promo', subject: 'Sale' }),
        email({ subject: 'Hi', body: '<p>{{ profile.id }}</p>' }),
        { channel: 'sms', content: { body: '{% if %}' } },
      ],
      templatesDir,
    );
    expect(issues).toEqual([]);
  });

  it('reports a missing file, a Liquid syntax error and an MJML error with the action index', async () => {
    const issues = await checkEmailTemplates(
      [
        email({ template: 'welcome', subject: 'Hi' }),
        email({ template: 'absent', subject: 'Hi' }),
        email({ template: 'broken', subject: 'Hi' }),
        email({ template: 'misplaced', subject: 'Hi' }),
        email({ subject: '{{ profile.traits.name ', body: 'x' }),
        email({ template: '../email.test', subject: 'Hi' }),
        email({ body: 'no subject' }),
        email({ subject: 'nothing to send' }),
      ],
      templatesDir,
    );
    expect(issues).toEqual([
      {
        actionIndex: 1,
        field: 'content.template',
        message: expect.stringMatching(/^no absent\.liquid or absent\.mjml in .*fixtures\/templates/),
      },
      {
        actionIndex: 2,
        field: 'content.template',
        message: expect.stringMatching(/^broken\.liquid: .*tag .*if.* not closed.*line:2/),
      },
      {
        actionIndex: 3,
        field: 'content.template',
        message: expect.stringMatching(
          /^misplaced\.mjml: mjml line 3 \(mj-text\): mj-text cannot be used inside mj-body/,
        ),
      },
      { actionIndex: 4, field: 'content.subject', message: expect.stringMatching(/not closed/) },
      {
        actionIndex: 5,
        field: 'content.template',
        message: expect.stringMatching(/outside the templates folder/),
      },
      { actionIndex: 6, field: 'content.subject', message: 'required for email' },
      {
        actionIndex: 7,
        field: 'content',
        message: expect.stringMatching(/needs content\.template .* or content\.body/),
      },
    ]);
  });
});

describe('link tokens', () => {
  const ids = { decisionId: 'dec_1', profileId: 'prof_1' };

  it('round-trips open and unsubscribe tokens and rejects tampering', () => {
    const token = signToken(SECRET, { ...ids, kind: 'open' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyToken(SECRET, token)).toEqual({ ...ids, kind: 'open' });
    const [body, sig] = token.split('.') as [string, string];
    // Another payload with the old signature, a changed signature, a non-canonical one, another key.
    const forged = Buffer.from(JSON.stringify(['dec_1', 'prof_2', 'o'])).toString('base64url');
    expect(verifyToken(SECRET, `${forged}.${sig}`)).toBeUndefined();
    expect(
      verifyToken(SECRET, `${body}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`),
    ).toBeUndefined();
    expect(verifyToken(SECRET, `${body}.${sig}=`)).toBeUndefined();
    expect(verifyToken('other-secret-0123456789', token)).toBeUndefined();
    for (const junk of ['', '.', 'abc', `${body}.`, `.${sig}`, `${body}.${sig}.x`, 'e30.AAAA']) {
      expect(verifyToken(SECRET, junk)).toBeUndefined();
    }
  });

  it('binds a click token to its target URL', () => {
    const url = 'https://shop.example/a?b=1';
    const token = signToken(SECRET, { ...ids, kind: 'click', url });
    expect(verifyToken(SECRET, token, url)).toEqual({ ...ids, kind: 'click', url });
    expect(verifyToken(SECRET, token, 'https://evil.example/')).toBeUndefined();
    expect(verifyToken(SECRET, token)).toBeUndefined();
    // An open token is not a click token for any URL.
    expect(verifyToken(SECRET, signToken(SECRET, { ...ids, kind: 'open' }), url)).toEqual({
      ...ids,
      kind: 'open',
    });
  });
});

describe('htmlToText', () => {
  it('keeps text, paragraphs and link targets, drops head, styles and comments', () => {
    const html = `<html><head><title>T</title><style>p{color:red}</style></head><body>
      <!--[if mso]><table><![endif]-->
      <h1>Hi  &amp; welcome</h1><p>Line one<br/>line
      two</p><p><a href="https://x.example/?a=1&amp;b=2">Go</a> <a href="https://y.example">https://y.example</a></p>
      <ul><li>one</li><li>two</li></ul></body></html>`;
    expect(htmlToText(html)).toBe(
      'Hi & welcome\n\nLine one\nline two\n\nGo (https://x.example/?a=1&b=2) https://y.example\n\n- one\n- two',
    );
  });
});

describe('smtpFailure', () => {
  const err = (fields: object) => Object.assign(new Error('boom'), fields);

  it('retries timeouts, connection errors and 4xx; not 5xx or messages nodemailer refused', () => {
    expect(smtpFailure(err({ code: 'ETIMEDOUT' }))).toMatchObject({
      retryable: true,
      reason: 'smtp ETIMEDOUT: boom',
    });
    expect(smtpFailure(err({ code: 'ECONNECTION' })).retryable).toBe(true);
    expect(smtpFailure(new Error('socket hang up')).retryable).toBe(true);
    expect(smtpFailure(err({ code: 'EENVELOPE', responseCode: 452, response: '452 full' }))).toEqual({
      status: 'failed',
      retryable: true,
      reason: 'smtp 452: 452 full',
    });
    expect(smtpFailure(err({ code: 'EAUTH', responseCode: 535 })).retryable).toBe(false);
    expect(smtpFailure(err({ code: 'EENVELOPE' })).retryable).toBe(false);
    expect(smtpFailure('weird').retryable).toBe(true);
  });
});
