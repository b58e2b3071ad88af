import { Liquid, type Template } from 'liquidjs';

/**
 * Liquid rendering shared by every channel. Strict on purpose: a misspelt variable or filter is an error, not
 * an empty string in a customer's message. `lenientIf` still lets `{% if profile.traits.first_name %}` and
 * `| default: 'there'` test for a trait that may be absent. `ownPropertyOnly` hides prototypes
 * (`{{ profile.constructor }}`), and the empty `templates` map means `{% include %}` never reads files.
 */
const LIQUID_DEFAULTS = {
  strictVariables: true,
  strictFilters: true,
  ownPropertyOnly: true,
  lenientIf: true,
  templates: {},
} as const;

export interface RenderOptions {
  /** `html`: every `{{ output }}` is HTML-escaped unless piped through `| raw` (email bodies). */
  escape?: 'html';
}

/** A template that does not parse or does not render; the message carries liquidjs's `line:…, col:…`. */
export class TemplateError extends Error {
  /** Where the template sits in a rendered JSON value (`payload.title`), when rendering one. */
  readonly path: string | undefined;

  constructor(message: string, opts: { path?: string; cause?: unknown } = {}) {
    super(opts.path === undefined ? message : `${opts.path}: ${message}`, { cause: opts.cause });
    this.name = 'TemplateError';
    this.path = opts.path;
  }
}

const engines = {
  text: new Liquid(LIQUID_DEFAULTS),
  html: new Liquid({ ...LIQUID_DEFAULTS, outputEscape: 'escape' }),
};

/** Parsed templates by engine and source. Templates come from config, so few; the bound guards against misuse. */
const MAX_CACHED = 1000;
const parsed = new Map<string, Template[]>();

const parse = (template: string, opts: RenderOptions): Template[] => {
  const kind = opts.escape === 'html' ? 'html' : 'text';
  const key = `${kind}\u0000${template}`;
  const hit = parsed.get(key);
  if (hit !== undefined) {
    // Re-insert so the map's insertion order is least-recently-used first.
    parsed.delete(key);
    parsed.set(key, hit);
    return hit;
  }
  let tpl: Template[];
  try {
    tpl = engines[kind].parse(template);
  } catch (e) {
    throw new TemplateError(errorText(e), { cause: e });
  }
  if (parsed.size >= MAX_CACHED) parsed.delete(parsed.keys().next().value as string);
  parsed.set(key, tpl);
  return tpl;
};

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Renders one Liquid template over `vars`; throws a TemplateError naming the variable, filter or tag at fault. */
export const renderTemplate = async (
  template: string,
  vars: object,
  opts: RenderOptions = {},
): Promise<string> => {
  const tpl = parse(template, opts);
  const engine = opts.escape === 'html' ? engines.html : engines.text;
  try {
    return (await engine.render(tpl, vars)) as string;
  } catch (e) {
    throw new TemplateError(errorText(e), { cause: e });
  }
};

const hasLiquid = (text: string): boolean => text.includes('{{') || text.includes('{%');

const renderAt = async (value: unknown, vars: object, path: string): Promise<unknown> => {
  if (typeof value === 'string') {
    if (!hasLiquid(value)) return value;
    try {
      return await renderTemplate(value, vars);
    } catch (e) {
      throw e instanceof TemplateError ? new TemplateError(e.message, { path, cause: e.cause }) : e;
    }
  }
  if (Array.isArray(value)) return Promise.all(value.map((v, i) => renderAt(v, vars, `${path}[${i}]`)));
  if (value !== null && typeof value === 'object') {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await renderAt(v, vars, `${path}.${k}`)] as const),
    );
    // fromEntries defines own properties, so a `__proto__` key stays data instead of changing the prototype.
    return Object.fromEntries(entries);
  }
  return value;
};

/**
 * Renders every string inside a JSON value (object keys are left as written); numbers, booleans and null are
 * kept. A rendered string stays a string: `"{{ profile.computed.orders }}"` becomes `"3"`. A TemplateError says
 * where the bad template is (`payload.buttons[0].label: undefined variable: …`).
 */
export const renderPayload = (value: unknown, vars: object): Promise<unknown> =>
  renderAt(value, vars, 'payload');

/**
 * Parses a template (as config checking does) and returns what is wrong with it, with line and column, or
 * undefined when it parses. Variables are only known at send time, so an unknown variable is not reported here.
 */
export const checkTemplate = (template: string): string | undefined => {
  try {
    parse(template, {});
    return undefined;
  } catch (e) {
    return errorText(e);
  }
};
