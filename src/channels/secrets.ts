import { PathwiseError } from '../errors.js';

/** `${NAME}` with a POSIX-style variable name; anything else is left as written. */
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces every `${NAME}` in a config value with the environment variable, so secrets stay out of the
 * committed config file. A variable that is unset or empty is an error naming it (never its value): sending
 * with an empty key would only fail later, at the provider, with a less useful message.
 */
export const expandEnv = (value: string, env: NodeJS.ProcessEnv, field?: string): string =>
  value.replace(REFERENCE, (_ref, name: string) => {
    const resolved = env[name];
    if (resolved === undefined || resolved === '') {
      const where = field === undefined ? '' : `${field}: `;
      throw new PathwiseError(
        'PW_ERR_CONFIG_INVALID',
        `${where}environment variable ${name} is not set (the config refers to \${${name}}); export it before starting Pathwise`,
        field === undefined ? {} : { field },
      );
    }
    return resolved;
  });
