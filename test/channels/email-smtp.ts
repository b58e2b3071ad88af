import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP receiver on a loopback port: keeps every message it accepts, parsed by mailparser. */
export interface TestSmtp {
  port: number;
  received: Array<{ mail: ParsedMail; envelope: { from: string; to: string[] } }>;
  connections: number;
  /** User names that logged in (the password must be `secret`). */
  logins: string[];
  /** A reply code (e.g. 550, 451) to refuse every RCPT TO with; undefined accepts. */
  rejectRcpt: number | undefined;
  close(): Promise<void>;
}

export const startSmtp = async (): Promise<TestSmtp> => {
  const state: Omit<TestSmtp, 'port' | 'close'> = {
    received: [],
    connections: 0,
    logins: [],
    rejectRcpt: undefined,
  };
  const server = new SMTPServer({
    authOptional: true,
    // The test server's certificate is self-signed: no STARTTLS, so the client stays in plain text.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, done) {
      if (auth.password !== 'secret') return done(new Error('invalid credentials'));
      state.logins.push(auth.username ?? '');
      done(null, { user: auth.username });
    },
    onConnect(_session, done) {
      state.connections++;
      done();
    },
    onRcptTo(_address, _session, done) {
      if (state.rejectRcpt === undefined) return done();
      const err = Object.assign(
        new Error(state.rejectRcpt >= 500 ? 'mailbox unavailable' : 'try again later'),
        {
          responseCode: state.rejectRcpt,
        },
      );
      done(err);
    },
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        simpleParser(Buffer.concat(chunks))
          .then((mail) => {
            state.received.push({
              mail,
              envelope: {
                from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
                to: session.envelope.rcptTo.map((r) => r.address),
              },
            });
            done();
          })
          .catch(done);
      });
    },
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.server.address() as AddressInfo).port;
  return Object.assign(state, {
    port,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  });
};
