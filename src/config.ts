/**
 * Every environment variable the server reads, parsed once with zod.
 * An invalid value stops start-up with a message naming the variable; secrets are never printed.
 */
import { z } from 'zod';

const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();

const optionalUrl = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .pipe(z.url().optional())
  .optional();

const intWithDefault = (def: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((s) => (s === undefined || s === '' ? String(def) : s))
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const flag = z
  .string()
  .trim()
  .optional()
  .transform((s) => s !== undefined && ['1', 'true', 'yes', 'on'].includes(s.toLowerCase()));

const otlpProtocol = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .pipe(
    z
      .enum(['http/protobuf', 'http/json'], {
        error:
          "must be http/protobuf or http/json (gRPC is not bundled: point at the collector's HTTP port, 4318)",
      })
      .optional(),
  )
  .optional();

/** Schema of the environment. Keys are the variable names. */
export const envSchema = z.object({
  PORT: intWithDefault(3000, 0, 65535),
  HOST: z.string().trim().optional().default('0.0.0.0'),
  PUBLIC_URL: optionalUrl,
  /**
   * This instance's own media stream URL (wss://...), given to Twilio in the TwiML so the call stays
   * on the instance that answered the webhook; default: PUBLIC_URL's host + /twilio/stream.
   */
  PUBLIC_STREAM_URL: optionalUrl.refine((u) => u === undefined || /^wss?:\/\//i.test(u), {
    message: 'must be a wss:// (or ws:// for local tests) URL',
  }),
  /** Which peers' X-Forwarded-Proto/-Host are believed (stream URL without PUBLIC_URL). */
  TRUST_PROXY: z.enum(['loopback', 'all', 'none']).optional().default('loopback'),
  DATA_DIR: z.string().trim().optional().default('./data'),
  /** This instance's identity on its conversations (crash sweep); default: an id kept in DATA_DIR. */
  INSTANCE_ID: optionalString,
  DATABASE_URL: optionalString,
  SUPABASE_URL: optionalUrl,
  SUPABASE_KEY: optionalString,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_MODEL: z.string().trim().optional().default('gpt-4o-mini'),
  DEEPGRAM_API_KEY: optionalString,
  DEEPGRAM_URL: optionalUrl,
  /** Deepgram `endpointing`: ms of silence after which it ends a segment (speech_final). */
  DEEPGRAM_ENDPOINTING_MS: intWithDefault(300, 10, 5000),
  CARTESIA_API_KEY: optionalString,
  CARTESIA_URL: optionalUrl,
  CARTESIA_VOICE_ID: z.string().trim().optional().default('694f9389-aac1-45b6-b726-9d9369183238'),
  CARTESIA_MODEL: z.string().trim().optional().default('sonic-3'),
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_API_URL: optionalUrl,
  /** Where a caller who asks for a person is transferred (E.164, e.g. +15551230000). */
  TRANSFER_NUMBER: optionalString.pipe(
    z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number such as +15551230000')
      .optional(),
  ),
  /** Misunderstood turns in a row after which the call is transferred (0: only when asked). */
  TRANSFER_AFTER_MISUNDERSTANDINGS: intWithDefault(3, 0, 20),
  MAX_CONCURRENT_CALLS: intWithDefault(50, 1, 10_000),
  /** Seconds a webhook's call slot waits for its media stream before it is freed again. */
  CALL_RESERVATION_TTL_S: intWithDefault(15, 1, 600),
  DASHBOARD_TOKEN: optionalString,
  /** Comma-separated web origins (besides the server's own) allowed to open /client/stream. */
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((s) =>
      (s ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url())),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .optional()
    .default('info'),
  /** Caller-audio VAD: the built-in energy detector, or Silero (optional onnxruntime-node; falls back to energy). */
  VAD: z.enum(['energy', 'silero']).optional().default('energy'),
  MAX_CLAIM_AMOUNT: intWithDefault(1_000_000, 1, 1_000_000_000),
  COMPANY_NAME: z.string().trim().optional().default('Acme Insurance'),
  INSPECT: flag,
  INSPECT_PORT: intWithDefault(8080, 1, 65535),
  /** On SIGTERM: how long live calls may go on before the rest are told goodbye and hung up. */
  DRAIN_TIMEOUT_S: intWithDefault(300, 0, 86_400),
  /** Embedded PGlite in a worker thread (default), or `off`: in the main thread. */
  PGLITE_WORKER: z.enum(['on', 'off']).optional().default('on'),
  /** The outbox journal's JSON lines built in a worker thread (`on`), or here (default: its I/O is async). */
  JOURNAL_WORKER: z.enum(['on', 'off']).optional().default('off'),
  /**
   * The outbox journal's group commit, ms: accepted writes are appended and fdatasync'ed together at
   * most this often, so a kill -9 loses at most this window's writes (SIGTERM loses none).
   */
  JOURNAL_GROUP_MS: intWithDefault(100, 1, 1_000),
  /** Seconds between live calls heartbeats; an instance silent for 3 of them leaves the view. */
  LIVE_HEARTBEAT_S: intWithDefault(5, 1, 300),
  /**
   * Preemptive generation: prepare the reply (held, unheard) while the endpointing patience runs
   * and send it the moment the turn is confirmed; `off`: start the reply only then.
   */
  PREEMPTIVE_GENERATION: z.enum(['on', 'off']).optional().default('on'),
  /** Address of the inspector relay; default: HOST, or loopback when HOST is every interface. */
  INSPECT_HOST: optionalString,
  /** Bearer token `GET /metrics` requires; default: DASHBOARD_TOKEN when set, else open. */
  METRICS_TOKEN: optionalString,
  /** `json` lines, or `pretty` (pino-pretty, when installed); default: pretty on a terminal outside production. */
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).optional().default('auto'),
  /** OTLP endpoint of the trace collector: tracing is on when this (or the traces one) is set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl,
  /** OTLP over HTTP: `http/protobuf` (the OpenTelemetry default) or `http/json`; gRPC is not bundled. */
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol,
  /** The `service.name` of the traces (default `statecall`). */
  OTEL_SERVICE_NAME: optionalString,
  /** `true`: no tracing whatever the endpoint says (the OpenTelemetry switch). */
  OTEL_SDK_DISABLED: flag,
  /** Record calls (stereo WAV, caller left, bot right). Callers must be told: the greeting says so. */
  RECORDING: flag,
  /** Where recordings go; default DATA_DIR/recordings. */
  RECORDING_DIR: optionalString,
  /** Days a recording is kept (swept at start-up, then daily); 0 keeps them forever. */
  RECORDING_RETENTION_DAYS: intWithDefault(0, 0, 36_500),
  /** Where a JSON report of every ended conversation is POSTed (signed with POST_CALL_WEBHOOK_SECRET). */
  POST_CALL_WEBHOOK_URL: optionalUrl,
  /** HMAC-SHA256 key of the post-call report's X-Statecall-Signature header. */
  POST_CALL_WEBHOOK_SECRET: optionalString,
});

/** Parsed configuration. */
export type Env = z.infer<typeof envSchema>;

/** Which implementation serves each provider role, decided from the keys present. */
export interface ProviderSelection {
  stt: 'deepgram' | 'local';
  llm: 'openai' | 'local';
  tts: 'cartesia' | 'local';
}

/** The application configuration. */
export interface AppConfig extends Env {
  providers: ProviderSelection;
}

/** Thrown when the environment is invalid; the message names each bad variable, never its value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment (default: process.env). Throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // Zod messages describe the expectation; they never echo the offending value.
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if ((e.SUPABASE_URL === undefined) !== (e.SUPABASE_KEY === undefined)) {
    problems.push('SUPABASE_URL and SUPABASE_KEY must be set together');
  }
  if (e.DATABASE_URL && !/^postgres(ql)?:\/\//.test(e.DATABASE_URL)) {
    problems.push('DATABASE_URL: must start with postgres:// or postgresql://');
  }
  if (e.TWILIO_AUTH_TOKEN && !e.PUBLIC_URL) {
    problems.push('PUBLIC_URL: required when TWILIO_AUTH_TOKEN is set (signatures are checked against it)');
  }
  if (e.POST_CALL_WEBHOOK_URL && !e.POST_CALL_WEBHOOK_SECRET) {
    problems.push(
      'POST_CALL_WEBHOOK_SECRET: required when POST_CALL_WEBHOOK_URL is set (reports are signed)',
    );
  }
  if (e.TRANSFER_NUMBER && !(e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN)) {
    problems.push(
      'TRANSFER_NUMBER: needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (the call is redirected over the REST API, the whisper is signed)',
    );
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    ...e,
    providers: {
      stt: e.DEEPGRAM_API_KEY ? 'deepgram' : 'local',
      llm: e.OPENAI_API_KEY ? 'openai' : 'local',
      tts: e.CARTESIA_API_KEY ? 'cartesia' : 'local',
    },
  };
}

/** The public URL's wss:// form for Twilio `<Stream url>`, e.g. wss://example.ngrok.app/twilio/stream. */
export function streamUrlOf(publicUrl: string, path = '/twilio/stream'): string {
  const u = new URL(publicUrl);
  u.protocol = u.protocol === 'http:' ? 'ws:' : 'wss:';
  u.pathname = path;
  u.search = '';
  return u.toString();
}

/**
 * Where the Stately inspector relay listens: INSPECT_HOST, else HOST unless HOST means every
 * interface (the default 0.0.0.0), in which case loopback: the relay has no authentication.
 */
export function inspectHostOf(config: Pick<Env, 'HOST' | 'INSPECT_HOST'>): string {
  if (config.INSPECT_HOST) return config.INSPECT_HOST;
  const host = config.HOST.trim();
  return host === '' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
