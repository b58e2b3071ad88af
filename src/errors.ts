/**
 * Every error Pathwise reports, in one catalogue (as fastify's lib/errors.js): a stable code, the HTTP status,
 * whether retrying the same request can succeed, and a message that says how to fix the input.
 * docs/errors.md lists the same table; test/unit/errors.test.ts keeps the two in sync.
 */
export const ERRORS = {
  PW_ERR_CONFIG_INVALID: { status: 400, retryable: false, message: 'Invalid configuration: %s' },
  PW_ERR_CONFIG_NOT_FOUND: {
    status: 400,
    retryable: false,
    message: 'Config file not found: %s (pass --config FILE)',
  },
  PW_ERR_AUTH_WRITE_KEY: {
    status: 401,
    retryable: false,
    message: 'Missing or unknown write key: send it as the HTTP Basic user name (empty password)',
  },
  PW_ERR_AUTH_ADMIN_KEY: {
    status: 401,
    retryable: false,
    message: 'Missing or wrong admin key: send "Authorization: Bearer <admin key>"',
  },
  PW_ERR_INGEST_INVALID: { status: 400, retryable: false, message: '%s' },
  PW_ERR_INGEST_TOO_LARGE: { status: 413, retryable: false, message: '%s' },
  PW_ERR_INGEST_TRACKING_PLAN: { status: 400, retryable: false, message: 'Tracking plan violation: %s' },
  PW_ERR_INGEST_BODY: { status: 400, retryable: false, message: 'Unreadable request body: %s' },
  PW_ERR_PROFILE_NOT_FOUND: { status: 404, retryable: false, message: 'No profile for identifier %s' },
  PW_ERR_PROFILE_ERASED: {
    status: 404,
    retryable: false,
    message:
      'The customer %s was erased: only an anonymous tombstone remains, so there is nothing to read or erase',
  },
  PW_ERR_QUERY_INVALID: { status: 400, retryable: false, message: 'Invalid query: %s' },
  PW_ERR_IMPORT_FILE: { status: 400, retryable: false, message: 'Cannot read import file: %s' },
  PW_ERR_IMPORT_FORMAT: {
    status: 400,
    retryable: false,
    message: 'Unknown import format %s (use jsonl or csv)',
  },
  PW_ERR_EVALUATE_DATA: {
    status: 400,
    retryable: false,
    message: 'Cannot evaluate the logged data: %s (see docs/evaluation.md for the input format)',
  },
  PW_ERR_EVALUATE_OPTIONS: {
    status: 400,
    retryable: false,
    message: 'Invalid evaluate options: %s (see pathwise evaluate --help)',
  },
  PW_ERR_SIM_SCENARIO: {
    status: 400,
    retryable: false,
    message: 'Invalid simulation scenario %s (see docs/simulation.md for the format)',
  },
  PW_ERR_DECIDE_INVALID: { status: 400, retryable: false, message: 'Invalid decision request: %s' },
  PW_ERR_DECIDE_PLACEMENT: {
    status: 400,
    retryable: false,
    message: 'Unknown placement %s: declare it under `placements:` in the config',
  },
  PW_ERR_DECISION_NOT_FOUND: { status: 404, retryable: false, message: 'No decision with id %s' },
  PW_ERR_OUTCOME_INVALID: { status: 400, retryable: false, message: 'Invalid outcome: %s' },
  PW_ERR_ACTION_NOT_FOUND: {
    status: 404,
    retryable: false,
    message: 'No action %s in the catalog (actions are declared under `actions:` in the config)',
  },
  PW_ERR_DELIVERY_FAILED: {
    status: 502,
    retryable: true,
    message: 'Delivery failed: %s (check the channel settings and the provider)',
  },
  PW_ERR_STORE_CONFLICT: {
    status: 409,
    retryable: false,
    message: 'Store conflict: %s (check for a duplicate before writing)',
  },
  PW_ERR_STORE_UNAVAILABLE: { status: 503, retryable: true, message: 'Store unavailable: %s' },
  PW_ERR_NOT_FOUND: { status: 404, retryable: false, message: 'No route %s' },
  PW_ERR_INTERNAL: { status: 500, retryable: true, message: 'Internal error: %s' },
} as const satisfies Record<string, { status: number; retryable: boolean; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class PathwiseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  /** The input field at fault, as a path (`batch[3].userId`), when there is one. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, detail: string, opts: { field?: string; cause?: unknown } = {}) {
    const spec = ERRORS[code];
    super(spec.message.replace('%s', detail), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PathwiseError';
    this.code = code;
    this.status = spec.status;
    this.retryable = spec.retryable;
    this.field = opts.field;
  }

  toJSON(): { code: ErrorCode; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

export const isPathwiseError = (e: unknown): e is PathwiseError => e instanceof PathwiseError;
