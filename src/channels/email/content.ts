import type { ActionConfig } from '../../config/index.js';
import type { OutboundMessage } from '../channel.js';
import { TemplateError, renderTemplate } from '../render.js';
import { escapeHtml, htmlToText } from './html-text.js';
import { compileMjml } from './mjml.js';
import type { TemplateFiles } from './templates.js';

/** An email's rendered parts, before tracking is added. */
export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/** What email templates can use. */
export const templateVariables = (message: OutboundMessage, unsubscribeUrl: string) => ({
  profile: {
    id: message.profile.id,
    traits: message.profile.traits,
    computed: message.profile.computed,
    segments: message.profile.segments,
  },
  context: message.context,
  decision: { id: message.decisionId },
  unsubscribe_url: unsubscribeUrl,
});

const looksLikeHtml = (text: string): boolean => /<[a-z][^>]*>/i.test(text);

/** A plain-text inline body as simple HTML: paragraphs at blank lines, `<br>` at single line breaks. */
const textToHtml = (text: string): string =>
  text
    .trim()
    .split(/\n\s*\n/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>\n')}</p>`)
    .join('\n');

/**
 * Renders an action's content for one customer: `content.subject` (required), and either the named template
 * (`.liquid` HTML or `.mjml`, Liquid first, then MJML) or the inline `content.body`. The text part is the
 * `.txt.liquid` template when there is one, else derived from the HTML. Throws a TemplateError.
 */
export const renderEmail = async (
  content: ActionConfig['content'],
  vars: object,
  load: (name: string) => Promise<TemplateFiles>,
): Promise<RenderedEmail> => {
  if (content.subject === undefined) throw new TemplateError('content.subject is required for email');
  // A header is one line: a line break from a trait must not end it (or start another header).
  const subject = (await renderTemplate(content.subject, vars)).replace(/\s+/g, ' ').trim();
  if (content.template !== undefined) {
    const files = await load(content.template);
    const at = async <T>(file: string, work: () => Promise<T>): Promise<T> => {
      try {
        return await work();
      } catch (e) {
        throw e instanceof TemplateError ? new TemplateError(`${file}: ${e.message}`, { cause: e }) : e;
      }
    };
    const rendered = await at(files.file, () => renderTemplate(files.html, vars, { escape: 'html' }));
    const html = files.kind === 'mjml' ? await at(files.file, () => compileMjml(rendered)) : rendered;
    const textSource = files.text;
    const text =
      textSource === undefined || files.textFile === undefined
        ? htmlToText(html)
        : await at(files.textFile, () => renderTemplate(textSource, vars));
    return { subject, html, text };
  }
  if (content.body !== undefined) {
    if (looksLikeHtml(content.body)) {
      const html = await renderTemplate(content.body, vars, { escape: 'html' });
      return { subject, html, text: htmlToText(html) };
    }
    const text = await renderTemplate(content.body, vars);
    return { subject, html: textToHtml(text), text };
  }
  throw new TemplateError('an email action needs content.template or content.body');
};
