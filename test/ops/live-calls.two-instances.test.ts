/**
 * Two server processes on this machine share one PostgreSQL database (a scratch database on the
 * local server of TEST_DATABASE_URL, dropped afterwards): a Twilio call on instance A shows in B's
 * `GET /api/calls/live`; A killed with SIGKILL leaves B's view once its heartbeat expires (its row
 * is still in the table: expiry, not a clean exit, removed it); a drain on B shows in the view of A
 * (restarted); B's clean exit takes it out of the view. Each instance advertises its own stream URL
 * (PUBLIC_STREAM_URL), so the call stays on the instance that answered the webhook.
 */
import { claimMetaOfPath } from '../../machines/claim/claim.view.js';
import type { LiveCallsView } from '../../src/ops/live-calls/types.js';
import { createScratchDb, postgresUnavailable, type ScratchDb } from '../faults/support/scratch-db.js';
import { DASHBOARD_TOKEN, startPhoneStack, type PhoneStack } from '../faults/support/phone-stack.js';
import { pollUntil, startServerProcess, type ServerProcess } from '../faults/support/server-process.js';
import { tempDir } from '../faults/support/with-server.js';
import type { TwilioCall } from '../fakes/twilio-caller.js';
import { describeWhen } from '../support/describe-when.js';

const unavailable = process.env.TEST_DATABASE_URL
  ? await postgresUnavailable()
  : 'TEST_DATABASE_URL not set (e.g. postgres://postgres@127.0.0.1:5432/test)';

const streamUrlOf = (name: string) => `wss://${name}.statecall.faults.test/twilio/stream`;

async function liveView(server: ServerProcess): Promise<LiveCallsView> {
  const res = await fetch(`${server.url}/api/calls/live`, {
    headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` },
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as LiveCallsView;
}

/** Polls `server`'s view until `check` holds (30 s at most); returns the last view seen. */
async function viewWhen(
  server: ServerProcess,
  check: (v: LiveCallsView) => boolean,
): Promise<{ view: LiveCallsView | null; held: boolean }> {
  let last: LiveCallsView | null = null;
  const held = await pollUntil(
    async () => {
      last = await liveView(server);
      return check(last) ? true : undefined;
    },
    30_000,
    100,
  );
  return { view: last, held: held === true };
}

describeWhen('test/ops', 'live calls across two instances sharing PostgreSQL', unavailable, () => {
  let db: ScratchDb;
  let stack: PhoneStack;
  const servers: ServerProcess[] = [];
  const calls: TwilioCall[] = [];
  const dirs = [tempDir('live-a'), tempDir('live-b')];

  const start = async (name: 'a' | 'b', dataDir: string) => {
    const server = await startServerProcess({
      env: stack.serverEnv({
        DATABASE_URL: db.urlVia(),
        DATA_DIR: dataDir,
        INSTANCE_ID: `instance-${name}`,
        PUBLIC_STREAM_URL: streamUrlOf(name),
        LIVE_HEARTBEAT_S: '1',
        DRAIN_TIMEOUT_S: '120',
      }),
    });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    db = await createScratchDb();
    stack = await startPhoneStack();
  }, 60_000);
  afterAll(async () => {
    for (const c of calls) c.terminate();
    await Promise.all(servers.map((s) => s.stop(5_000)));
    await stack?.close();
    await db?.drop();
    for (const d of dirs) d.remove();
  }, 60_000);

  it('shows a call of A on B, drops it when A is killed, and shows B draining', async () => {
    const a = await start('a', dirs[0]!.path);
    const b = await start('b', dirs[1]!.path);

    // A call answered by A is told A's own stream URL, and shows in B's view.
    const first = await stack.call(a.url, { from: '+15551239876' });
    calls.push(first);
    expect(first.streamUrl).toBe(streamUrlOf('a'));
    await first.waitForMedia(1, 30_000);
    const onB = await viewWhen(b, (v) =>
      v.calls.some((c) => c.instanceId === 'instance-a' && c.claimStep !== null && c.callState !== null),
    );
    expect(onB.held).toBe(true);
    expect(onB.view!.source).toBe('postgres');
    expect(onB.view!.instanceId).toBe('instance-b');
    expect(onB.view!.instances.map((i) => i.instanceId)).toEqual(['instance-a', 'instance-b']);
    const seen = onB.view!.calls.find((c) => c.instanceId === 'instance-a')!;
    expect(seen).toMatchObject({
      channel: 'phone',
      caller: '…9876',
      claimState: 'initial',
      claimStep: claimMetaOfPath('initial').label,
    });
    expect(seen.callState).toMatch(/^active\./);
    expect(seen.durationMs).toBeGreaterThanOrEqual(0);
    expect(onB.view!.instances.find((i) => i.instanceId === 'instance-a')).toMatchObject({
      calls: 1,
      draining: false,
      streamUrl: streamUrlOf('a'),
    });

    // SIGKILL: nothing is cleaned up by A; its heartbeat stops and B's view drops it and its call.
    a.kill9();
    await a.exited;
    const gone = await viewWhen(b, (v) => !v.instances.some((i) => i.instanceId === 'instance-a'));
    expect(gone.held).toBe(true);
    expect(gone.view!.calls.filter((c) => c.instanceId === 'instance-a')).toEqual([]);
    const leftRows = await db.query<{ n: string }>(
      "select count(*) as n from live_instances where instance_id = 'instance-a'",
    );
    expect(Number(leftRows[0]!.n)).toBe(1);

    // A restarts (same id, same DATA_DIR) and watches a drain on B.
    const a2 = await start('a', dirs[0]!.path);
    const second = await stack.call(b.url, { from: '+15551234567' });
    calls.push(second);
    expect(second.streamUrl).toBe(streamUrlOf('b'));
    await second.waitForMedia(1, 30_000);
    b.signal('SIGTERM');
    const draining = await viewWhen(a2, (v) =>
      v.instances.some((i) => i.instanceId === 'instance-b' && i.draining && i.calls === 1),
    );
    expect(draining.held).toBe(true);
    expect(draining.view!.calls.find((c) => c.instanceId === 'instance-b')).toMatchObject({
      caller: '…4567',
      channel: 'phone',
    });

    // The caller hangs up: B finishes its drain and exits cleanly, leaving the view at once.
    await second.hangUp();
    const exit = await b.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const bGone = await viewWhen(a2, (v) => !v.instances.some((i) => i.instanceId === 'instance-b'));
    expect(bGone.held).toBe(true);
    expect(bGone.view!.instances.map((i) => i.instanceId)).toEqual(['instance-a']);
  }, 180_000);
});
