import type mjmlCompile from 'mjml';
import { TemplateError } from '../render.js';

/** mjml takes about a second to load: only workspaces with `.mjml` templates pay for it, once. */
type Mjml2Html = typeof mjmlCompile;
let loaded: Promise<Mjml2Html> | undefined;
const mjml2html = (source: string, options: Parameters<Mjml2Html>[1]) => {
  loaded ??= import('mjml').then((m) => m.default);
  return loaded.then((compile) => compile(source, options));
};

/**
 * MJML compiled to responsive HTML. `soft` validation collects every problem, which we then refuse as a
 * whole: an email with a misplaced section renders differently per client, so it must not go out.
 * `mj-include` stays off (mjml's default), so a template cannot read files.
 */
const MJML_DEFAULTS = { validationLevel: 'soft', keepComments: false, ignoreIncludes: true } as const;

interface MjmlProblem {
  line: number;
  message: string;
  tagName: string;
}

const describe = (p: MjmlProblem): string => `mjml line ${p.line} (${p.tagName}): ${p.message}`;

const compile = async (source: string): Promise<{ html: string; problems: MjmlProblem[] }> => {
  try {
    const out = await mjml2html(source, MJML_DEFAULTS);
    return { html: out.html, problems: out.errors };
  } catch (e) {
    throw new TemplateError(`mjml: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
};

/** Compiles rendered MJML (Liquid already applied); throws a TemplateError listing every MJML problem. */
export const compileMjml = async (source: string): Promise<string> => {
  const { html, problems } = await compile(source);
  if (problems.length > 0) throw new TemplateError(problems.map(describe).join('; '));
  return html;
};

/**
 * The MJML problems of a template before Liquid runs (config checking has no customer to render for): Liquid
 * tags are blanked (keeping line numbers) and outputs become `x`. An attribute computed by Liquid
 * (`padding="{{ p }}"`) cannot be judged from `x`, so value errors on lines with Liquid are left to send time.
 */
export const checkMjml = async (source: string): Promise<string[]> => {
  const blank = (tag: string) => tag.replace(/[^\n]/g, '');
  const structure = source.replace(/\{%[\s\S]*?%\}/g, blank).replace(/\{\{[\s\S]*?\}\}/g, 'x');
  const lines = source.split('\n');
  try {
    const { problems } = await compile(structure);
    return problems
      .filter((p) => !(/invalid value/i.test(p.message) && /\{\{|\{%/.test(lines[p.line - 1] ?? '')))
      .map(describe);
  } catch (e) {
    return [e instanceof Error ? e.message : String(e)];
  }
};
