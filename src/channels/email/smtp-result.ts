import type { DeliveryResult } from '../channel.js';

/** nodemailer error codes that mean the message itself is unusable: sending it again cannot succeed. */
const PERMANENT_CODES = new Set(['EENVELOPE', 'EMESSAGE', 'EAUTH', 'ECONFIG']);

/**
 * Maps a nodemailer failure to a delivery result. SMTP reply codes decide first (RFC 5321 §4.2.1: 4yz is a
 * transient failure, 5yz a permanent one); without a reply, the connection failed (refused, timed out,
 * reset, TLS), which a later attempt may get past, unless nodemailer refused the message before sending it.
 */
export const smtpFailure = (err: unknown): DeliveryResult & { status: 'failed' } => {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    responseCode?: unknown;
    response?: unknown;
    message?: unknown;
  };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (typeof e.responseCode === 'number') {
    const response = typeof e.response === 'string' ? e.response : message;
    return {
      status: 'failed',
      retryable: e.responseCode >= 400 && e.responseCode < 500,
      reason: `smtp ${e.responseCode}: ${response}`,
    };
  }
  return {
    status: 'failed',
    retryable: code === undefined || !PERMANENT_CODES.has(code),
    reason: `smtp ${code ?? 'error'}: ${message}`,
  };
};
