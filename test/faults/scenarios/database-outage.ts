/**
 * A PostgreSQL outage mid-call, through a TCP proxy: new connections refused for ~15 s, open ones
 * blackholed (bytes dropped both ways) and half-way through destroyed, while a call files its
 * claim and a second call starts during the outage. Both calls complete while the database is down; once it is back,
 * every transition of each call is stored exactly once, seq contiguous per actor, in order, with
 * the claim fields.
 */
import {
  CLAIM_EVENTS,
  checkStoredLog,
  claimFields,
  COMPLETED_CLAIM,
  readStoredCall,
} from '../support/log-integrity.js';
import { CLAIM, fileClaimByKeypad, type PhoneStack } from '../support/phone-stack.js';
import type { Scenario, ScenarioReport } from '../support/report.js';
import { postgresUnavailable, withProxiedScratchDb, type ScratchDb } from '../support/scratch-db.js';
import { outboxDrained, sleep, type ServerProcess } from '../support/server-process.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { withPhoneServer } from '../support/with-server.js';

const OUTAGE_MS = Number(process.env.FAULTS_OUTAGE_MS ?? 15_000);
/** Keys of the whole keypad claim (acknowledge, date, amount, confirm). */
export const KEYS_FULL_CLAIM = Object.values(CLAIM.keys).join('').length;

/** A call that files the whole claim; resolves once the bot hung up and the stream closed. */
async function fullCall(stack: PhoneStack, server: ServerProcess, before?: (step: string) => void) {
  const call = await stack.call(server.url);
  const firstMediaMs = (async () => {
    const t0 = performance.now();
    await call.waitForMedia(1, 60_000);
    return performance.now() - t0;
  })();
  await fileClaimByKeypad(call, { ...(before ? { before } : {}), timeoutMs: 60_000 });
  await stack.rest.waitForHangUp(call.callSid, 60_000);
  await call.waitForClosed(30_000);
  return { call, firstMediaMs: await firstMediaMs };
}

async function outage(
  report: ScenarioReport,
  stack: PhoneStack,
  server: ServerProcess,
  proxy: TcpProxy,
  db: ScratchDb,
): Promise<void> {
  let cutAt = 0;
  const later: { second?: ReturnType<typeof fullCall> } = {};
  const first = await fullCall(stack, server, (step) => {
    if (step !== 'date') return;
    proxy.cut('blackhole');
    cutAt = performance.now();
    // A caller who dials in while the database is down.
    later.second = fullCall(stack, server);
  });
  const firstDoneWhileCut = proxy.isCut;
  const secondResult = await later.second!;
  const secondDoneWhileCut = proxy.isCut;
  const during = await server.health().catch(() => null);
  report.figure(
    '/healthz during the outage',
    during ? { ok: during.ok, outbox: during.outbox } : 'no answer',
  );
  report.figure('call started during the outage: first audio after (ms)', secondResult.firstMediaMs);
  report.check('the first call completed while the database was down', firstDoneWhileCut);
  report.check('the call started during the outage completed while it was down', secondDoneWhileCut);

  // Half-way through, the blackholed connections are destroyed too (a partition, then a reset).
  const untilReset = OUTAGE_MS / 2 - (performance.now() - cutAt);
  if (untilReset > 0) await sleep(untilReset);
  const blackholedSeconds = (performance.now() - cutAt) / 1000;
  proxy.cut('reset');
  const wait = OUTAGE_MS - (performance.now() - cutAt);
  if (wait > 0) await sleep(wait);
  proxy.restore();
  report.figure('open connections blackholed for (s), then reset', blackholedSeconds);
  const outageSeconds = (performance.now() - cutAt) / 1000;
  report.figure('outage length (s)', outageSeconds);
  report.figure(
    'proxy: connections / refused while cut / bytes blackholed',
    `${proxy.connections} / ${proxy.refused} / ${proxy.droppedBytes}`,
  );

  const t0 = performance.now();
  const drained = await outboxDrained(server, 90_000);
  report.figure('outbox drained after the restore (s)', (performance.now() - t0) / 1000);
  report.check('the outbox drains once the database is back', drained.drained, drained.outbox);

  for (const [label, call] of [
    ['call 1', first.call],
    ['call 2', secondResult.call],
  ] as const) {
    const stored = await readStoredCall(db, call.callSid);
    const c = stored.conversation;
    report.figure(
      `${label}: stored`,
      c ? `${c.state} ${c.claim_status} ${c.claim_date} ${c.claim_amount} ${c.end_reason}` : 'missing',
    );
    report.equal(`${label}: the claim fields are stored`, claimFields(c), COMPLETED_CLAIM);
    checkStoredLog(report, stored, { label, claimEvents: CLAIM_EVENTS, keysPressed: KEYS_FULL_CLAIM });
  }
  report.check('the server is alive', server.alive());
}

export const databaseOutage: Scenario = {
  id: 'outage',
  title: 'a database outage mid-call loses nothing, duplicates nothing and keeps the order',
  needs: postgresUnavailable,
  run: (report) =>
    withProxiedScratchDb((db, proxy) =>
      withPhoneServer(report, 'outage', { DATABASE_URL: db.urlVia(proxy.port) }, ({ stack, server }) =>
        outage(report, stack, server, proxy, db),
      ),
    ),
};
