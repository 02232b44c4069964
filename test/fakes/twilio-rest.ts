/**
 * A fake of the slice of Twilio's REST API the engine uses: hanging up a call with
 * `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` (`Status=completed`), plus
 * `GET` of the same resource. Basic auth `AccountSid:AuthToken` (401 code 20003 otherwise);
 * calls the fake doesn't know, or that already ended, answer 404 code 20404 like Twilio.
 *
 * Calls must be registered first (`addCall`, or `startTwilioCall({ rest })` does it), because
 * Twilio only knows calls that exist. A completed hang-up emits `'hangup'` so a simulated caller
 * can end its media stream the way Twilio does.
 *
 * Every accepted update of a call (`Status`, `Twiml`) is recorded in `callUpdates`, in order. A
 * `Twiml` update ends the call's `<Connect><Stream>` like Twilio does (the stream stops); a
 * `<Dial>` in it leaves the call in progress. {@link answerDial} then plays the dialled person
 * answering: Twilio's signed request to the `<Number url>` (the whisper), as documented.
 *
 * Also exports {@link FakeTwilioRequestClient}: a `twilio.RequestClient` subclass that points the
 * real `twilio` client at the fake (test helper; the engine has its own in src/transports).
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import twilio from 'twilio';
import { listenEphemeral, waitUntil } from './fake-server-util.js';

/** Options of {@link startTwilioRestFake}. */
export interface TwilioRestFakeOptions {
  /** Default `AC` + 32 hex digits of "a". */
  accountSid?: string;
  /** Default `test-twilio-token`. */
  authToken?: string;
  /** Calls that exist (in progress) from the start. */
  calls?: string[];
}

/** One request received. */
export interface TwilioRestRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The form body, decoded. */
  readonly form: Readonly<Record<string, string>>;
  status: number;
}

/** A call status change the fake applied. */
export interface TwilioHangUpRecord {
  readonly callSid: string;
  readonly status: string;
  readonly at: number;
}

/** A running fake Twilio REST API. */
export interface TwilioRestFake {
  /** `http://127.0.0.1:PORT`: what `TWILIO_API_URL` is set to in tests. */
  readonly url: string;
  readonly port: number;
  readonly accountSid: string;
  readonly authToken: string;
  readonly requests: readonly TwilioRestRequestRecord[];
  /** Every accepted update of a call resource (the form as posted), in order. */
  readonly callUpdates: readonly { callSid: string; form: Readonly<Record<string, string>>; at: number }[];
  /** Live-call TwiML updates (`Twiml=<Response>...`), in order. */
  readonly twimlUpdates: readonly { callSid: string; twiml: string; at: number }[];
  /** Successful `Status=completed|canceled` updates, in order. */
  readonly hangUps: readonly TwilioHangUpRecord[];
  /** Registers an in-progress call. */
  addCall(callSid: string): void;
  /** Marks a call as ended by the caller (a later hang-up then answers 404). */
  endCall(callSid: string): void;
  /** Current status of a call, or undefined if unknown. */
  callStatus(callSid: string): string | undefined;
  /** The next `count` requests fail with `status` (default 500, Twilio error JSON). */
  failNextRequests(count: number, status?: number): void;
  /** Resolves once `callSid` was hung up through the API. */
  waitForHangUp(callSid: string, timeoutMs?: number): Promise<TwilioHangUpRecord>;
  /** `'hangup'` (callSid) when a call is completed through the API. */
  readonly events: EventEmitter<{ hangup: [callSid: string] }>;
  close(): Promise<void>;
}

interface CallState {
  sid: string;
  status: string;
  created: Date;
  updated: Date;
}

/** Starts a fake Twilio REST API on an ephemeral port. */
export async function startTwilioRestFake(options: TwilioRestFakeOptions = {}): Promise<TwilioRestFake> {
  const accountSid = options.accountSid ?? `AC${'a'.repeat(32)}`;
  const authToken = options.authToken ?? 'test-twilio-token';
  const calls = new Map<string, CallState>();
  const requests: TwilioRestRequestRecord[] = [];
  const hangUps: TwilioHangUpRecord[] = [];
  const twimlUpdates: { callSid: string; twiml: string; at: number }[] = [];
  const callUpdates: { callSid: string; form: Record<string, string>; at: number }[] = [];
  const events = new EventEmitter<{ hangup: [callSid: string] }>();
  let failCount = 0;
  let failStatus = 500;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };
  const addCall = (sid: string): void => {
    const now = new Date();
    calls.set(sid, { sid, status: 'in-progress', created: now, updated: now });
  };
  for (const sid of options.calls ?? []) addCall(sid);

  const http = await listenEphemeral((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) twilioError(res, 500, 20500, 'Internal Server Error');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const form = Object.fromEntries(new URLSearchParams(raw).entries());
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: TwilioRestRequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      headers: req.headers,
      form,
      status: 0,
    };
    requests.push(record);
    const reply = (status: number, body: unknown): void => {
      record.status = status;
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Twilio-Request-Id': `RQ${'0'.repeat(32)}`,
      });
      res.end(JSON.stringify(body));
      notify();
    };
    const fail = (status: number, code: number, message: string): void => {
      record.status = status;
      twilioError(res, status, code, message);
      notify();
    };

    if (failCount > 0) {
      failCount--;
      return fail(
        failStatus,
        failStatus === 429 ? 20429 : 20500,
        failStatus === 429 ? 'Too Many Requests' : 'Internal Server Error',
      );
    }
    const auth = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [user, pass] = auth ? Buffer.from(auth, 'base64').toString('utf8').split(':') : [];
    if (user !== accountSid || pass !== authToken) {
      return fail(401, 20003, 'Authenticate');
    }
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/.exec(url.pathname);
    if (!m) return fail(404, 20404, `The requested resource ${url.pathname} was not found`);
    const [, pathAccount, callSid] = m as unknown as [string, string, string];
    if (pathAccount !== accountSid) return fail(403, 20003, 'Authenticate');
    const call = calls.get(callSid);
    if (req.method === 'GET') {
      if (!call) return fail(404, 20404, `The requested resource ${url.pathname} was not found`);
      return reply(200, callResource(accountSid, call));
    }
    if (req.method !== 'POST') return fail(405, 20004, 'Method not allowed');
    // An ended call is no longer updatable: Twilio answers 404 for it.
    if (!call || call.status === 'completed' || call.status === 'canceled') {
      return fail(404, 20404, `The requested resource ${url.pathname} was not found`);
    }
    const status = form.Status;
    if (status !== undefined && !['completed', 'canceled'].includes(status)) {
      return fail(400, 21218, `Invalid status: ${status}`);
    }
    // New TwiML for a live call: Twilio ends the current verb (our <Connect><Stream>) and runs it.
    if (form.Twiml !== undefined) {
      if (!/^\s*(<\?xml[^>]*>\s*)?<Response>[\s\S]*<\/Response>\s*$/.test(form.Twiml)) {
        return fail(400, 12100, 'Document parse failure');
      }
      callUpdates.push({ callSid, form, at: performance.now() });
      twimlUpdates.push({ callSid, twiml: form.Twiml, at: performance.now() });
      if (/<Hangup\s*\/>/.test(form.Twiml)) {
        call.status = 'completed';
        call.updated = new Date();
        hangUps.push({ callSid, status: 'completed', at: performance.now() });
      }
      reply(200, callResource(accountSid, call));
      events.emit('hangup', callSid);
      return;
    }
    if (status) {
      callUpdates.push({ callSid, form, at: performance.now() });
      call.status = status;
      call.updated = new Date();
      hangUps.push({ callSid, status, at: performance.now() });
      reply(200, callResource(accountSid, call));
      events.emit('hangup', callSid);
      return;
    }
    return reply(200, callResource(accountSid, call));
  }

  return {
    url: http.url,
    port: http.port,
    accountSid,
    authToken,
    requests,
    hangUps,
    twimlUpdates,
    callUpdates,
    addCall,
    endCall(callSid) {
      const call = calls.get(callSid);
      if (call) {
        call.status = 'completed';
        call.updated = new Date();
      }
    },
    callStatus: (callSid) => calls.get(callSid)?.status,
    failNextRequests(count, status = 500) {
      failCount = count;
      failStatus = status;
    },
    waitForHangUp(callSid, timeoutMs = 5000) {
      return waitUntil(
        () => hangUps.find((h) => h.callSid === callSid),
        (l) => {
          listeners.add(l);
          return () => listeners.delete(l);
        },
        timeoutMs,
        `hang-up of ${callSid}`,
      );
    },
    events,
    async close() {
      events.removeAllListeners();
      listeners.clear();
      await http.close();
    },
  };
}

/** What {@link answerDial} needs to reach our server as Twilio would. */
export interface AnswerDialOptions {
  /** Where our server really listens (`http://127.0.0.1:PORT`). */
  serverBaseUrl: string;
  /** PUBLIC_URL: the `<Number url>` starts with it, and the signature is computed over it. */
  publicUrl: string;
  /** The auth token to sign with; omitted: an unsigned request (what a stranger would send). */
  authToken?: string;
  accountSid: string;
  /** The parent call (the caller's). */
  parentCallSid: string;
}

/**
 * The dialled person answers a `<Dial><Number url>` of `twiml`: like Twilio, POSTs the documented
 * form (the child call's CallSid, ParentCallSid, From, To, CallStatus=in-progress,
 * Direction=outbound-dial...) to the url, signed with `X-Twilio-Signature` over the url as
 * written. Returns the answer (status and TwiML text).
 */
export async function answerDial(
  twiml: string,
  o: AnswerDialOptions,
): Promise<{ status: number; body: string; url: string }> {
  const m = /<Number[^>]*\burl="([^"]+)"[^>]*>([^<]+)<\/Number>/.exec(twiml);
  if (!m) throw new Error('no <Number url> in the TwiML');
  const url = m[1]!.replace(/&amp;/g, '&');
  const params: Record<string, string> = {
    AccountSid: o.accountSid,
    ApiVersion: '2010-04-01',
    CallSid: `CA${'d'.repeat(32)}`,
    ParentCallSid: o.parentCallSid,
    CallStatus: 'in-progress',
    Direction: 'outbound-dial',
    From: '+15550001111',
    To: m[2]!,
    Called: m[2]!,
  };
  const base = o.publicUrl.replace(/\/+$/, '');
  if (!url.startsWith(base)) throw new Error(`the whisper url ${url} is not under ${base}`);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (o.authToken)
    headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(o.authToken, url, params);
  const res = await fetch(`${o.serverBaseUrl.replace(/\/+$/, '')}${url.slice(base.length)}`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.text(), url };
}

function callResource(accountSid: string, call: CallState): Record<string, unknown> {
  const uri = `/2010-04-01/Accounts/${accountSid}/Calls/${call.sid}.json`;
  return {
    sid: call.sid,
    account_sid: accountSid,
    api_version: '2010-04-01',
    status: call.status,
    direction: 'inbound',
    from: '+15550001111',
    to: '+15550002222',
    from_formatted: '(555) 000-1111',
    to_formatted: '(555) 000-2222',
    date_created: call.created.toUTCString(),
    date_updated: call.updated.toUTCString(),
    start_time: call.created.toUTCString(),
    end_time: call.status === 'completed' ? call.updated.toUTCString() : null,
    duration:
      call.status === 'completed'
        ? String(Math.round((call.updated.getTime() - call.created.getTime()) / 1000))
        : null,
    price: null,
    price_unit: 'USD',
    answered_by: null,
    caller_name: null,
    forwarded_from: null,
    group_sid: null,
    parent_call_sid: null,
    phone_number_sid: `PN${'0'.repeat(32)}`,
    queue_time: '0',
    trunk_sid: null,
    uri,
    subresource_uris: {
      notifications: uri.replace('.json', '/Notifications.json'),
      recordings: uri.replace('.json', '/Recordings.json'),
    },
  };
}

function twilioError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Test helper: a `twilio.RequestClient` that sends every request to `baseUrl` instead of
 * `https://api.twilio.com` (the twilio client has no base-URL option). Use as
 * `twilio(accountSid, authToken, { httpClient: new FakeTwilioRequestClient(fake.url) })`.
 */
export class FakeTwilioRequestClient extends twilio.RequestClient {
  constructor(private readonly baseUrl: string) {
    super();
  }

  override request<TData>(opts: Parameters<twilio.RequestClient['request']>[0]) {
    if (typeof opts.uri === 'string') {
      opts.uri = opts.uri.replace(/^https:\/\/api\.twilio\.com/, this.baseUrl.replace(/\/+$/, ''));
    }
    return super.request<TData>(opts as never);
  }
}
