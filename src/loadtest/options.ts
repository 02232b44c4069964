/**
 * The load tester's command line: `--url` is required (the tool never calls a host the user did
 * not name), every other flag has a default. Durations are `500ms`, `10s`, `2m`, `1h` or seconds.
 */
import { parseArgs } from 'node:util';

/** Parsed options. */
export interface LoadtestOptions {
  url: string;
  publicUrl: string;
  webhookPath: string;
  calls: number;
  rampMs: number;
  durationMs: number | undefined;
  keypad: boolean;
  authToken: string | undefined;
  to: string;
  audioDir: string | undefined;
  turnTimeoutMs: number;
  htmlOut: string;
  jsonOut: string | undefined;
}

/** A command-line mistake (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Usage text. */
export const USAGE = `Usage: npm run loadtest -- --url https://your-host [options]

Places simulated Twilio calls (signed webhook, Media Stream, recorded speech, real-time
playback and marks) against a running statecall deployment, and reports latency.

  --url URL            the deployment (required; the webhook is POSTed to URL + --webhook-path)
  --public-url URL     the URL the deployment signs against (its PUBLIC_URL); default --url
  --webhook-path PATH  default /twilio/voice
  --calls N            concurrent callers (default 10)
  --ramp DUR           start the callers evenly over DUR (default 0s)
  --duration DUR       keep calling for DUR (each caller redials); default: one call per caller
  --keypad             answer with DTMF keys instead of recorded speech
  --auth-token TOKEN   Twilio auth token to sign with (default: env TWILIO_AUTH_TOKEN)
  --to NUMBER          the number "dialled" (default +15550100000)
  --audio DIR          recordings (mu-law 8 kHz raw .ulaw); default: test/fixtures/audio
  --turn-timeout DUR   longest wait for one bot answer (default 30s)
  --out FILE           HTML report (default loadtest-report.html)
  --json FILE          also write the summary as JSON
`;

/** Parses `500ms`, `10s`, `2m`, `1h` or a number of seconds into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m)
    throw new UsageError(`${flag}: expected a duration like 10s, 2m or 500ms, got "${text.slice(0, 40)}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

function httpUrl(text: string, flag: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`${flag}: not a URL: "${text.slice(0, 100)}"`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new UsageError(`${flag}: must be an http(s) URL, got ${u.protocol}`);
  if (u.username || u.password) throw new UsageError(`${flag}: must not carry credentials`);
  return u.toString().replace(/\/+$/, '');
}

/** Parses the command line (see file header). @throws UsageError */
export function parseLoadtestArgs(argv: string[], env: Record<string, string | undefined>): LoadtestOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        'public-url': { type: 'string' },
        'webhook-path': { type: 'string' },
        calls: { type: 'string' },
        ramp: { type: 'string' },
        duration: { type: 'string' },
        keypad: { type: 'boolean' },
        'auth-token': { type: 'string' },
        to: { type: 'string' },
        audio: { type: 'string' },
        'turn-timeout': { type: 'string' },
        out: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  if (!values.url)
    throw new UsageError('--url is required: name the deployment to load (there is no default host)');
  const url = httpUrl(values.url, '--url');
  const calls = values.calls === undefined ? 10 : Number(values.calls);
  if (!/^\d+$/.test(values.calls ?? '10') || !Number.isInteger(calls) || calls < 1 || calls > 10_000)
    throw new UsageError('--calls: a whole number from 1 to 10000');
  const path = values['webhook-path'] ?? '/twilio/voice';
  if (!path.startsWith('/')) throw new UsageError('--webhook-path must start with /');
  const to = values.to ?? '+15550100000';
  if (!/^\+\d{6,15}$/.test(to)) throw new UsageError('--to: an E.164 number like +15550100000');
  const turnTimeoutMs = parseDuration(values['turn-timeout'] ?? '30s', '--turn-timeout');
  if (turnTimeoutMs < 1000) throw new UsageError('--turn-timeout: at least 1s');
  return {
    url,
    publicUrl: values['public-url'] ? httpUrl(values['public-url'], '--public-url') : url,
    webhookPath: path,
    calls,
    rampMs: parseDuration(values.ramp ?? '0s', '--ramp'),
    durationMs: values.duration === undefined ? undefined : parseDuration(values.duration, '--duration'),
    keypad: values.keypad ?? false,
    authToken: values['auth-token'] ?? (env.TWILIO_AUTH_TOKEN?.trim() || undefined),
    to,
    audioDir: values.audio,
    turnTimeoutMs,
    htmlOut: values.out ?? 'loadtest-report.html',
    jsonOut: values.json,
  };
}
