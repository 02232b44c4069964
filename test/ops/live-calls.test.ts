/**
 * The live calls pieces without a database server: the tracker and the notices that feed it, the
 * view built from stored rows (malformed ones left out), the in-process feed, and the Supabase
 * feed's writes, reads and polling fallback through real supabase-js against the PostgREST fake
 * (two instances, one database; Realtime is off: there is no Realtime server here).
 */
import pino from 'pino';
import { claimMetaOfPath } from '../../machines/claim/claim.view.js';
import { observedTransport, trackNotice } from '../../src/http/live-call-observer.js';
import type { SessionTransport } from '../../src/session/session-types.js';
import { createInProcessLiveFeed } from '../../src/ops/live-calls/in-process-feed.js';
import { createSupabaseLiveFeed } from '../../src/ops/live-calls/supabase-feed.js';
import { createLiveCallTracker } from '../../src/ops/live-calls/tracker.js';
import { buildLiveCallsView } from '../../src/ops/live-calls/view.js';
import type { LiveCallsFeed, LiveCallsView } from '../../src/ops/live-calls/types.js';
import { startPostgrestFake, type PostgrestFake } from '../fakes/postgrest-server.js';

const silent = pino({ level: 'silent' });
const ID = '11111111-2222-4333-8444-555555555555';

/** Resolves with the first view (re-read on every notice of the feed) that passes `check`. */
function viewWhen(feed: LiveCallsFeed, check: (v: LiveCallsView) => boolean): Promise<LiveCallsView> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const look = () =>
      void feed.view().then((v) => {
        if (settled || !check(v)) return;
        settled = true;
        unsubscribe();
        resolve(v);
      }, reject);
    const unsubscribe = feed.subscribe(look);
    look();
  });
}

describe('live call tracker fed by session notices', () => {
  it('keeps state, claim step from meta, latest latency and the masked caller; forgets the call at its end', () => {
    const tracker = createLiveCallTracker({ instanceId: 'i-1' });
    let changes = 0;
    tracker.onChange(() => changes++);
    let id = trackNotice(
      tracker,
      { type: 'session.started', conversationId: ID, claimId: 'CLM-1', channel: 'phone' },
      { conversationId: null, from: '+15551239876' },
    );
    id = trackNotice(
      tracker,
      { type: 'state.changed', actor: 'call', value: { active: { responding: 'speaking' } }, event: 'x' },
      { conversationId: id },
    );
    const claim = {
      claimId: 'CLM-1',
      claimDate: null,
      claimAmount: null,
      claimStatus: 'Open',
      state: 'ongoing',
      path: 'ongoing.collectingDate',
    };
    trackNotice(tracker, { type: 'claim.updated', claim }, { conversationId: id });
    trackNotice(
      tracker,
      { type: 'metrics.turn', timing: { turn: 1, interrupted: false, latencyMs: 312.6 } },
      { conversationId: id },
    );
    const [call] = tracker.state().calls;
    expect(call).toMatchObject({
      instanceId: 'i-1',
      conversationId: ID,
      channel: 'phone',
      callState: 'active.responding.speaking',
      claimState: 'ongoing.collectingDate',
      claimStep: claimMetaOfPath('ongoing.collectingDate').label,
      latestLatencyMs: 313,
      caller: '…9876',
    });
    const before = changes;
    trackNotice(tracker, { type: 'claim.updated', claim }, { conversationId: id });
    expect(changes).toBe(before); // the same state again is not a change
    trackNotice(tracker, { type: 'session.ended', reason: 'hangup' }, { conversationId: id });
    expect(tracker.state().calls).toEqual([]);
    expect(changes).toBe(before + 1);
  });

  it('drops stored calls that are malformed or claim another instance, and never crashes on them', () => {
    const good = {
      ...createLiveCallTracker({ instanceId: 'a' }).state(),
      heartbeatAt: new Date().toISOString(),
    };
    const call = {
      instanceId: 'a',
      conversationId: ID,
      channel: 'phone',
      callState: null,
      claimState: null,
      claimStep: null,
      startedAt: '2026-01-01T00:00:00.000Z',
      latestLatencyMs: null,
      caller: null,
    };
    const view = buildLiveCallsView({
      source: 'postgres',
      instanceId: 'a',
      heartbeatMs: 5000,
      now: new Date('2026-01-01T00:00:10.000Z'),
      rows: [
        { ...good, calls: [call, { ...call, instanceId: 'b' }, { nonsense: true }, 'x', null] },
        { ...good, instanceId: 'z', calls: 'not an array' },
      ],
    });
    expect(view.calls).toHaveLength(1);
    expect(view.calls[0]!.durationMs).toBe(10_000);
    expect(view.instances.map((i) => [i.instanceId, i.calls])).toEqual([
      ['a', 1],
      ['z', 0],
    ]);
    expect(view.expiresAfterMs).toBe(15_000);
  });

  it('serves one instance in process, with its drain', async () => {
    const tracker = createLiveCallTracker({ instanceId: 'solo' });
    const feed = createInProcessLiveFeed({ tracker, heartbeatMs: 60_000 });
    await feed.start();
    tracker.callStarted({ conversationId: ID, channel: 'browser', caller: null });
    tracker.setDraining();
    const v = await feed.view();
    expect(v.source).toBe('in-process');
    expect(v.instances).toMatchObject([{ instanceId: 'solo', draining: true, calls: 1 }]);
    expect(v.calls.map((c) => c.conversationId)).toEqual([ID]);
    await feed.stop();
  });
});

describe('the observed transport', () => {
  it('keeps every member of the transport (transfer, voice flag), and its notices reach both', async () => {
    const seen: string[] = [];
    const transfers: string[] = [];
    const transport: SessionTransport = {
      channel: 'phone',
      carriesVoice: true,
      openSpeech: () => {
        throw new Error('not used');
      },
      hangUp: async () => {},
      transfer: async (r) => void transfers.push(r.cause),
      notify: (n) => void seen.push(n.type),
    };
    const tracker = createLiveCallTracker({ instanceId: 'i-1' });
    const observed = observedTransport(tracker, transport, '+15551239876');
    expect(observed.channel).toBe('phone');
    expect(observed.carriesVoice).toBe(true);
    await observed.transfer?.({ conversationId: ID, cause: 'keypad', claim: null });
    expect(transfers).toEqual(['keypad']);
    observed.notify({ type: 'session.started', conversationId: ID, claimId: 'CLM-1', channel: 'phone' });
    expect(seen).toEqual(['session.started']);
    expect(tracker.state().calls.map((c) => c.conversationId)).toEqual([ID]);
  });
});

describe('live calls over supabase-js (PostgREST fake, polling)', () => {
  const KEY = 'service-role-key';
  let fake: PostgrestFake;
  beforeAll(async () => {
    fake = await startPostgrestFake({ apiKey: KEY });
  }, 60_000);
  afterAll(() => fake?.close());

  it("shows instance A's call in instance B's view, and A's drain", async () => {
    const trackerA = createLiveCallTracker({
      instanceId: 'sb-a',
      streamUrl: 'wss://a.example.test/twilio/stream',
    });
    const trackerB = createLiveCallTracker({ instanceId: 'sb-b' });
    const feed = (tracker: typeof trackerA) =>
      createSupabaseLiveFeed({
        url: fake.url,
        key: KEY,
        tracker,
        heartbeatMs: 200,
        logger: silent,
        realtime: false,
      });
    const a = feed(trackerA);
    const b = feed(trackerB);
    await Promise.all([a.start(), b.start()]);
    try {
      trackerA.callStarted({ conversationId: ID, channel: 'phone', caller: '…1234' });
      const seen = await viewWhen(b, (v) => v.calls.some((c) => c.conversationId === ID));
      expect(seen.source).toBe('supabase');
      expect(seen.instances.map((i) => i.instanceId)).toEqual(['sb-a', 'sb-b']);
      expect(seen.calls).toMatchObject([{ instanceId: 'sb-a', caller: '…1234', channel: 'phone' }]);
      trackerA.setDraining();
      const draining = await viewWhen(b, (v) =>
        v.instances.some((i) => i.instanceId === 'sb-a' && i.draining),
      );
      expect(draining.instances.find((i) => i.instanceId === 'sb-a')!.streamUrl).toBe(
        'wss://a.example.test/twilio/stream',
      );
      trackerA.callEnded(ID);
      const ended = await viewWhen(b, (v) => v.calls.length === 0);
      expect(ended.instances.find((i) => i.instanceId === 'sb-a')!.calls).toBe(0);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 30_000);
});
