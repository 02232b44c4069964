/**
 * The load tester against a local server with fake providers (Deepgram, Cartesia and Twilio REST
 * fakes; the local dialogue): three simulated callers speak the recorded claim answers, sign
 * their webhooks and upgrades with the server's auth token, and the report counts three completed
 * calls and one latency sample per caller turn. A wrong auth token makes every call fail with the
 * webhook's 403, counted by kind.
 */
import { createServer } from 'node:net';
import { startTwilioRestFake, type TwilioRestFake } from '../fakes/twilio-rest.js';
import { startPhoneHarness, type PhoneHarness } from '../support/phone-harness.js';
import {
  CALLER_TURNS,
  TURN_INPUT,
  defaultAudioDir,
  loadCallerScript,
} from '../../src/loadtest/caller-script.js';
import { runLoad } from '../../src/loadtest/run-load.js';
import { formatReport, renderHtmlReport, summarize } from '../../src/loadtest/report.js';

const AUTH_TOKEN = 'loadtest-auth-token';

/** A free TCP port (PUBLIC_URL must name the port before the server listens). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('npm run loadtest against a local server', () => {
  let rest: TwilioRestFake;
  let harness: PhoneHarness;
  let url: string;

  beforeAll(async () => {
    rest = await startTwilioRestFake({ authToken: AUTH_TOKEN });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const texts = CALLER_TURNS.map((t) => TURN_INPUT[t].text);
    harness = await startPhoneHarness({
      twilio: false,
      deepgram: { utterances: (_n, _session, inSession) => texts[inSession] ?? '' },
      cartesia: { msPerChar: 3 },
      today: '2026-12-01',
      env: {
        PORT: String(port),
        PUBLIC_URL: url,
        TWILIO_ACCOUNT_SID: rest.accountSid,
        TWILIO_AUTH_TOKEN: AUTH_TOKEN,
        TWILIO_API_URL: rest.url,
        DASHBOARD_TOKEN: 'loadtest-dashboard-token',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
    await rest?.close();
  }, 30_000);

  it('places 3 signed voice calls that all complete, with a latency sample per caller turn', async () => {
    const result = await runLoad({
      url,
      webhookPath: '/twilio/voice',
      authToken: AUTH_TOKEN,
      to: '+15550100000',
      script: loadCallerScript({ keypad: false, audioDir: defaultAudioDir() }),
      turnTimeoutMs: 30_000,
      calls: 3,
      rampMs: 300,
    });
    const summary = summarize(result, { target: url, mode: 'voice' });
    expect(summary.failures).toEqual({});
    expect(summary).toMatchObject({ placed: 3, completed: 3, failed: 0, aborted: 0 });
    expect(summary.latency.count).toBe(3 * CALLER_TURNS.length);
    for (const turn of CALLER_TURNS) expect(summary.perTurn[turn].count).toBe(3);
    expect(summary.greeting.count).toBe(3);
    expect(summary.latency.p50).not.toBeNull();
    expect(summary.latency.p50!).toBeLessThanOrEqual(summary.latency.p99!);

    // The server filed the three claims the callers gave.
    await harness.server.flush();
    const stored = await harness.server.store.listConversations({ limit: 10 });
    expect(stored.filter((c) => c.state === 'done' && c.claim_amount === 1250)).toHaveLength(3);

    const text = formatReport(summary);
    expect(text).toMatch(/\| 3 +\| 3 +\| 0 +\| 0 +\|/);
    const html = renderHtmlReport(summary);
    expect(html).toContain('<svg');
    expect(html).toContain('3 completed');
  }, 120_000);

  it('counts every call refused for a wrong signature as a webhook HTTP failure', async () => {
    const result = await runLoad({
      url,
      webhookPath: '/twilio/voice',
      authToken: 'not-the-token',
      to: '+15550100000',
      script: loadCallerScript({ keypad: true }),
      turnTimeoutMs: 5_000,
      calls: 3,
      rampMs: 0,
    });
    const summary = summarize(result, { target: url, mode: 'keypad' });
    expect(summary).toMatchObject({ placed: 3, completed: 0, failed: 3, failures: { webhook_http: 3 } });
    expect(summary.latency.count).toBe(0);
    expect(formatReport(summary)).toContain('webhook_http');
  }, 60_000);
});
