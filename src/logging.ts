import { pino, type Logger, type LoggerOptions } from 'pino';

/** Paths that must never reach a log line: credentials, tokens and secret values. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  'password',
  '*.token',
  '*.password',
  '*.secret',
  'databaseUrl',
  'bootstrapToken',
  'secretKey',
  'value',
  '*.value',
];

/** Query parameters whose values are never logged, and values that look like Pave tokens. */
const SECRET_PARAM = /token|secret|password|passwd|api[-_]?key|auth|session|signature/i;
const TOKEN_VALUE = /pave_/i;

/** A request URL with the values of secret-looking query parameters replaced by [redacted]. */
export function redactUrl(url: string): string {
  const i = url.indexOf('?');
  if (i < 0) return url;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s.replaceAll('+', ' '));
    } catch {
      return s;
    }
  };
  const pairs = url.slice(i + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    return SECRET_PARAM.test(decode(key)) || TOKEN_VALUE.test(decode(value)) ? `${key}=[redacted]` : pair;
  });
  return `${url.slice(0, i)}?${pairs.join('&')}`;
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

export function createLogger(level: LoggerOptions['level'] = 'info', destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'pave' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Fastify's request serializer, but a token sent in the query string does not reach the log.
    serializers: {
      req: (req: LoggedRequest) => ({ method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Removes the password from a connection URL so that it can be logged. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
