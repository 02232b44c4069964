/**
 * kill -9 and restart: PostgreSQL behind the TCP proxy; mid-call the database is cut (reset), the
 * caller gives the claim date, ~1.5 s after the cut the server is killed with SIGKILL; then the
 * database comes back and the server restarts on the same DATA_DIR. Every field the server had
 * accepted is stored, the transitions too, and the conversation the crash left open is closed with
 * end_reason `server_crashed`.
 */
import { checkStoredLog, claimFields, readStoredCall } from '../support/log-integrity.js';
import { CLAIM, fileClaimByKeypad, startPhoneStack } from '../support/phone-stack.js';
import type { Scenario, ScenarioReport } from '../support/report.js';
import { postgresUnavailable, withProxiedScratchDb, type ScratchDb } from '../support/scratch-db.js';
import { outboxDrained, sleep, startServerProcess, type ServerProcess } from '../support/server-process.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { tempDir } from '../support/with-server.js';

const CUT_BEFORE_CRASH_MS = 1500;

async function crashAndRestart(report: ScenarioReport, proxy: TcpProxy, db: ScratchDb): Promise<void> {
  const stack = await startPhoneStack();
  const dir = tempDir('kill');
  const env = stack.serverEnv({ DATA_DIR: dir.path, DATABASE_URL: db.urlVia(proxy.port) });
  const servers: ServerProcess[] = [];
  try {
    const first = await startServerProcess({ env });
    servers.push(first);
    const call = await stack.call(first.url);
    await fileClaimByKeypad(call, { until: 'acknowledge', timeoutMs: 60_000 });

    proxy.cut('reset');
    const cutAt = performance.now();
    const since = call.receivedBytes;
    for (const d of CLAIM.keys.date) call.sendDtmf(d);
    // The bot answering the date (it asks for the amount) means the machine accepted it.
    await call.waitForMedia(since + 1, 30_000);
    const answeredAfter = performance.now() - cutAt;
    await sleep(Math.max(0, CUT_BEFORE_CRASH_MS - answeredAfter));
    const health = await first.health().catch(() => null);
    first.kill9();
    const exit = await first.exited;
    const crashAfter = performance.now() - cutAt;
    report.figure('database cut before the crash (ms)', crashAfter);
    report.figure('bot answered the date after the cut (ms)', answeredAfter);
    report.figure('outbox just before the crash', health?.outbox ?? 'no answer');
    report.figure('first server exit', exit);
    await call.waitForClosed(10_000).catch(() => call.terminate());

    proxy.restore();
    const second = await startServerProcess({ env });
    servers.push(second);
    const drained = await outboxDrained(second, 60_000);
    report.check('the restarted server drains what the crashed one left', drained.drained, drained.outbox);

    const stored = await readStoredCall(db, call.callSid);
    const c = stored.conversation;
    const expected = { claim_date: CLAIM.date, ended: true, end_reason: 'server_crashed' };
    const found = c
      ? { claim_date: c.claim_date, ended: c.ended_at !== null, end_reason: c.end_reason }
      : null;
    report.figure('fields expected', expected);
    report.figure('fields found', found ?? 'no conversation row');
    report.figure('stored row', claimFields(c) ?? 'missing');
    report.equal('the accepted claim date survived the crash', found?.claim_date ?? null, CLAIM.date);
    report.equal(
      'the conversation left open is closed as server_crashed',
      found && { ended: found.ended, end_reason: found.end_reason },
      { ended: true, end_reason: 'server_crashed' },
    );
    checkStoredLog(report, stored, {
      label: 'log',
      claimEvents: ['claim.number.acknowledged', 'claim.date.provided'],
      keysPressed: CLAIM.keys.acknowledge.length + CLAIM.keys.date.length,
    });
    report.check('the restarted server is alive', second.alive());
  } finally {
    for (const s of servers) await s.stop();
    await stack.close();
    dir.remove();
  }
}

export const killAndRestart: Scenario = {
  id: 'kill',
  title: 'kill -9 with the database cut loses no accepted field, and the open call is closed at restart',
  needs: postgresUnavailable,
  run: (report) => withProxiedScratchDb((db, proxy) => crashAndRestart(report, proxy, db)),
};
