import type { ActionConfig } from '../../config/index.js';
import { checkTemplate } from '../render.js';
import { checkMjml } from './mjml.js';
import { loadTemplateFiles } from './templates.js';

/** One problem with an email action's content; `field` is under `actions[actionIndex]`. */
export interface EmailTemplateIssue {
  actionIndex: number;
  field: 'content' | 'content.subject' | 'content.body' | 'content.template';
  message: string;
}

/**
 * Loads and parses every template the email actions use (files, Liquid syntax, MJML structure), so a bad
 * template is refused when the config loads instead of failing each send. `templatesDir` is absolute.
 * Asynchronous because MJML 5 compiles asynchronously.
 */
export const checkEmailTemplates = async (
  actions: ReadonlyArray<Pick<ActionConfig, 'channel' | 'content'>>,
  templatesDir: string,
): Promise<EmailTemplateIssue[]> => {
  const perAction = await Promise.all(
    actions.map(async ({ channel, content }, actionIndex) => {
      if (channel !== 'email') return [];
      const issues: EmailTemplateIssue[] = [];
      const add = (field: EmailTemplateIssue['field'], message: string) =>
        issues.push({ actionIndex, field, message });
      const liquid = (field: EmailTemplateIssue['field'], source: string, file?: string) => {
        const problem = checkTemplate(source);
        if (problem !== undefined) add(field, file === undefined ? problem : `${file}: ${problem}`);
      };
      if (content.subject === undefined) add('content.subject', 'required for email');
      else liquid('content.subject', content.subject);
      if (content.template !== undefined && content.body !== undefined) {
        add('content', 'set content.template or content.body, not both');
      }
      if (content.template !== undefined) {
        try {
          const files = await loadTemplateFiles(templatesDir, content.template);
          liquid('content.template', files.html, files.file);
          if (files.text !== undefined) liquid('content.template', files.text, files.textFile);
          if (files.kind === 'mjml') {
            for (const problem of await checkMjml(files.html))
              add('content.template', `${files.file}: ${problem}`);
          }
        } catch (e) {
          add('content.template', e instanceof Error ? e.message : String(e));
        }
      } else if (content.body !== undefined) {
        liquid('content.body', content.body);
      } else {
        add(
          'content',
          'an email action needs content.template (a file in the templates folder) or content.body',
        );
      }
      return issues;
    }),
  );
  return perAction.flat();
};
