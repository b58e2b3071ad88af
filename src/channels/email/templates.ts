import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { TemplateError } from '../render.js';

/** A named email template as files: `<name>.liquid` (HTML) or `<name>.mjml`, and maybe `<name>.txt.liquid`. */
export interface TemplateFiles {
  kind: 'liquid' | 'mjml';
  /** The file names, for messages. */
  file: string;
  textFile: string | undefined;
  /** The HTML (or MJML) source, Liquid not yet applied. */
  html: string;
  /** The plain-text source, when the template has one. */
  text: string | undefined;
}

const readIfExists = async (path: string): Promise<string | undefined> => {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TemplateError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
};

/**
 * Reads template `name` from `dir` (absolute). Names may use subfolders (`promo/spring`) but not leave the
 * folder. Throws a TemplateError saying which files were looked for.
 */
export const loadTemplateFiles = async (dir: string, name: string): Promise<TemplateFiles> => {
  const base = resolve(dir, name);
  const rel = relative(dir, base);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new TemplateError(
      `"${name}" is outside the templates folder: use a name like welcome or promo/spring`,
    );
  }
  const [liquid, mjml, text] = await Promise.all(
    ['.liquid', '.mjml', '.txt.liquid'].map((ext) => readIfExists(base + ext)),
  );
  if (liquid !== undefined && mjml !== undefined) {
    throw new TemplateError(`both ${rel}.liquid and ${rel}.mjml exist in ${dir}: keep one`);
  }
  const html = mjml ?? liquid;
  if (html === undefined) {
    throw new TemplateError(`no ${rel}.liquid or ${rel}.mjml in ${dir}`);
  }
  return {
    kind: mjml === undefined ? 'liquid' : 'mjml',
    file: `${rel}${mjml === undefined ? '.liquid' : '.mjml'}`,
    textFile: text === undefined ? undefined : `${rel}.txt.liquid`,
    html,
    text,
  };
};
