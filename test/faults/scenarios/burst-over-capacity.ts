/**
 * A burst over capacity: with MAX_CONCURRENT_CALLS=5, 20 signed webhooks at once get exactly 5
 * `<Connect>` answers and 15 polite refusals, every caller told to connect gets its stream (no
 * 503), and upgrades that fail the WebSocket handshake (bad Sec-WebSocket-Version) never hold a
 * slot: /healthz activeCalls stays at the number of open streams.
 */
import { streamOpeningFrames } from '../../fakes/twilio-caller.js';
import { WebSocket } from 'ws';
import { newCallSid, twimlKind, type PhoneStack } from '../support/phone-stack.js';
import { rawUpgrade } from '../support/raw-http.js';
import type { Scenario, ScenarioReport } from '../support/report.js';
import { pollUntil, type ServerProcess } from '../support/server-process.js';
import { withPhoneServer } from '../support/with-server.js';

const CAPACITY = 5;
const BURST = 20;
const BAD_UPGRADES = 50;

/** Opens the media stream of a call told to connect, and starts it like Twilio does. */
function openStream(
  stack: PhoneStack,
  server: ServerProcess,
  callSid: string,
): Promise<{ ws: WebSocket | null; status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/twilio/stream`, {
      headers: stack.streamHeaders(),
    });
    ws.on('error', () => resolve({ ws: null, status: 0 }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ ws: null, status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('open', () => {
      const streamSid = `MZ${callSid.slice(2)}`;
      for (const frame of streamOpeningFrames({ accountSid: stack.rest.accountSid, streamSid, callSid }))
        ws.send(JSON.stringify(frame));
      resolve({ ws, status: 101 });
    });
  });
}

async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close(1000);
        }),
    ),
  );
}

/** 50 upgrades that fail the handshake; returns the statuses seen, counted. */
async function badVersionUpgrades(stack: PhoneStack, server: ServerProcess): Promise<Record<string, number>> {
  const results = await Promise.all(
    Array.from({ length: BAD_UPGRADES }, () =>
      rawUpgrade(server.url, '/twilio/stream', {
        ...stack.streamHeaders(),
        'Sec-WebSocket-Version': '12',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      }),
    ),
  );
  const counts: Record<string, number> = {};
  for (const r of results) counts[String(r.status)] = (counts[String(r.status)] ?? 0) + 1;
  return counts;
}

/**
 * Polls /healthz until the count is `n` and returns it (or the last count seen). `slots`: live calls
 * plus webhook reservations still waiting for their stream (`reservedCalls`, where reported).
 */
async function activeCallsBecomes(
  server: ServerProcess,
  n: number,
  timeoutMs: number,
  what: 'activeCalls' | 'slots' = 'activeCalls',
): Promise<number> {
  let last = -1;
  const hit = await pollUntil(async () => {
    const h = await server.health();
    const reserved = typeof h.reservedCalls === 'number' ? h.reservedCalls : 0;
    last = (h.activeCalls ?? -1) + (what === 'slots' ? reserved : 0);
    return last === n ? true : undefined;
  }, timeoutMs);
  return hit ? n : last;
}

async function burst(report: ScenarioReport, stack: PhoneStack, server: ServerProcess): Promise<void> {
  const idleBad = await badVersionUpgrades(stack, server);
  report.figure(`${BAD_UPGRADES} bad-version upgrades, idle: statuses`, idleBad);
  report.check('no bad-version upgrade is accepted (idle)', !idleBad['101'], idleBad);
  report.equal('slots in use after them (idle)', await activeCallsBecomes(server, 0, 2000, 'slots'), 0);

  const answers = await Promise.all(Array.from({ length: BURST }, () => stack.webhook(server.url)));
  const kinds = { connect: 0, refusal: 0, other: 0 };
  for (const a of answers) kinds[a.status === 200 ? twimlKind(a.twiml) : 'other']++;
  report.figure(
    `${BURST} webhooks at once: connect / refusal / other`,
    `${kinds.connect} / ${kinds.refusal} / ${kinds.other}`,
  );
  report.equal('connect TwiMLs', kinds.connect, CAPACITY);
  report.equal('polite refusals (<Say> + <Hangup/>)', kinds.refusal, BURST - CAPACITY);

  const told = answers.filter((a) => a.status === 200 && twimlKind(a.twiml) === 'connect');
  const streams = await Promise.all(told.map((a) => openStream(stack, server, a.callSid)));
  const statuses: Record<string, number> = {};
  for (const s of streams) statuses[String(s.status)] = (statuses[String(s.status)] ?? 0) + 1;
  const open = streams.flatMap((s) => (s.ws ? [s.ws] : []));
  report.figure('streams of the callers told to connect: statuses', statuses);
  report.equal('streams refused (503 or other) for callers told to connect', told.length - open.length, 0);

  const busyBad = await badVersionUpgrades(stack, server);
  report.figure(`${BAD_UPGRADES} bad-version upgrades, at capacity: statuses`, busyBad);
  report.check('no bad-version upgrade is accepted (at capacity)', !busyBad['101'], busyBad);
  report.equal(
    'activeCalls = open streams',
    await activeCallsBecomes(server, open.length, 2000),
    open.length,
  );

  await closeAll(open);
  report.equal(
    'slots in use (live + reserved) after the streams closed',
    await activeCallsBecomes(server, 0, 15_000, 'slots'),
    0,
  );

  // Nothing leaked: a full set of new callers is served again.
  const again = await Promise.all(
    Array.from({ length: CAPACITY }, () => stack.webhook(server.url, newCallSid())),
  );
  const againConnect = again.filter((a) => a.status === 200 && twimlKind(a.twiml) === 'connect');
  const againStreams = await Promise.all(againConnect.map((a) => openStream(stack, server, a.callSid)));
  const againOpen = againStreams.flatMap((s) => (s.ws ? [s.ws] : []));
  report.figure(`${CAPACITY} new callers afterwards: connected`, againOpen.length);
  report.equal('a full set of new callers connects afterwards', againOpen.length, CAPACITY);
  await closeAll(againOpen);
  report.equal('slots in use at the end', await activeCallsBecomes(server, 0, 15_000, 'slots'), 0);
}

export const burstOverCapacity: Scenario = {
  id: 'burst',
  title: 'a burst over capacity gets polite refusals, every caller told to connect is served, no slot leaks',
  run: (report) =>
    withPhoneServer(
      report,
      'burst',
      { MAX_CONCURRENT_CALLS: String(CAPACITY) },
      async ({ stack, server }) => {
        await burst(report, stack, server);
        report.check('the server is alive', server.alive());
      },
    ),
};
