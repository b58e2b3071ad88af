import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** One message an SMTP client handed over. */
export interface SinkMail {
  to: string[];
  headers: Map<string, string>;
  /** Every text part, transfer-decoded (quoted-printable or base64), concatenated. */
  body: string;
}

/** A local SMTP server standing in for the customers' mailboxes. */
export interface SmtpSink {
  port: number;
  /** Takes the messages received since the last call. */
  take(): SinkMail[];
  close(): Promise<void>;
}

const decodeQuotedPrintable = (text: string): string =>
  Buffer.from(
    text
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');

/** Header block → lower-cased names to unfolded values. */
const parseHeaders = (block: string): Map<string, string> => {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
};

const splitHead = (raw: string): [string, string] => {
  const m = /\r?\n\r?\n/.exec(raw);
  return m === null ? [raw, ''] : [raw.slice(0, m.index), raw.slice(m.index + m[0].length)];
};

/** The decoded text of a MIME entity and of every part below it. */
const textOf = (headers: Map<string, string>, body: string): string => {
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary !== undefined) {
    return body
      .split(`--${boundary}`)
      .slice(1)
      .filter((part) => !part.startsWith('--'))
      .map((part) => {
        const [head, rest] = splitHead(part.replace(/^\r?\n/, ''));
        return textOf(parseHeaders(head), rest);
      })
      .join('\n');
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
};

/**
 * A minimal SMTP receiver (RFC 5321's HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no extensions, so the
 * client uses none): enough for nodemailer, in a few dozen lines, so the simulator needs no mail-server library
 * at run time. Each message is stored before the final `250`, so once the channel reports it sent, it is here.
 */
export const startSmtpSink = async (): Promise<SmtpSink> => {
  let inbox: SinkMail[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    let data: string[] | undefined;
    let to: string[] = [];
    const reply = (line: string) => socket.write(`${line}\r\n`);
    reply('220 pathwise-sim ESMTP');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (data !== undefined) {
          if (line === '.') {
            const raw = Buffer.from(data.join('\r\n'), 'latin1').toString('utf8');
            const [head, body] = splitHead(raw);
            const headers = parseHeaders(head);
            inbox.push({ to, headers, body: textOf(headers, body) });
            data = undefined;
            to = [];
            reply('250 OK: queued');
          } else data.push(line.startsWith('..') ? line.slice(1) : line);
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') reply('250 pathwise-sim');
        else if (verb === 'MAIL') reply('250 OK');
        else if (verb === 'RCPT') {
          const address = /<([^>]*)>/.exec(line)?.[1];
          if (address !== undefined) to.push(address);
          reply('250 OK');
        } else if (verb === 'DATA') {
          data = [];
          reply('354 End data with <CR><LF>.<CR><LF>');
        } else if (verb === 'RSET') {
          to = [];
          reply('250 OK');
        } else if (verb === 'NOOP') reply('250 OK');
        else if (verb === 'QUIT') {
          reply('221 Bye');
          socket.end();
        } else reply('502 Command not implemented');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    take: () => {
      const out = inbox;
      inbox = [];
      return out;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
};
