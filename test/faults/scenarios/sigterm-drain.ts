/**
 * SIGTERM drain. (1) A live call, then SIGTERM: /readyz goes 503 at once, a new webhook gets the
 * polite refusal, the live call finishes normally (done, REST hang-up) and the process exits 0
 * with the call stored. (2) With DRAIN_TIMEOUT_S=2, a call that does not finish gets a goodbye and
 * a REST hang-up (TwiML `<Say>` + `<Hangup/>`) before the process exits 0. (3) SIGTERM to the npm
 * process of `npm start` reaches the server: no process of the tree is left running.
 */
import { createStoreFromConfig } from '../../../src/store/create-store.js';
import type { ConversationRow } from '../../../src/store/types.js';
import type { TwilioCall } from '../../fakes/twilio-caller.js';
import { claimFields, COMPLETED_CLAIM } from '../support/log-integrity.js';
import { fileClaimByKeypad, twimlKind, type PhoneStack } from '../support/phone-stack.js';
import { commandOf, descendantsOf, isAlive } from '../support/process-tree.js';
import type { Scenario, ScenarioReport } from '../support/report.js';
import {
  pollUntil,
  startServerProcess,
  type ProcessExit,
  type ServerProcess,
} from '../support/server-process.js';
import { tempDir, withPhoneServer } from '../support/with-server.js';

/** The process exit, or null if it did not exit within `timeoutMs` (then it is killed). */
async function exitWithin(server: ServerProcess, timeoutMs: number): Promise<ProcessExit | null> {
  const exit = await Promise.race([
    server.exited,
    new Promise<null>((r) => setTimeout(() => r(null), timeoutMs).unref()),
  ]);
  if (!exit) server.kill9();
  return exit;
}

/** Reads a conversation from the PGlite of a stopped server. */
async function storedConversation(dataDir: string, callSid: string): Promise<ConversationRow | null> {
  const { store } = await createStoreFromConfig({ dataDir });
  await store.init();
  try {
    const rows = await store.listConversations({ limit: 200 });
    return rows.find((r) => r.call_sid === callSid) ?? null;
  } finally {
    await store.close();
  }
}

/** What the caller experienced, for the report. */
function callerSummary(call: TwilioCall, sinceBytes: number): string {
  return `heard ${call.playedBytes} B (${call.receivedBytes - sinceBytes} B after SIGTERM), closed ${call.closed ? `${call.closed.code} by ${call.closed.by}` : 'no'}`;
}

/** A caller past the greeting, then SIGTERM to the server; `before` = bytes the caller had then. */
async function liveCallThenSigterm(stack: PhoneStack, server: ServerProcess) {
  const call = await stack.call(server.url);
  await fileClaimByKeypad(call, { until: 'acknowledge' });
  const before = call.receivedBytes;
  server.signal('SIGTERM');
  return { call, before };
}

async function drainFinishes(
  report: ScenarioReport,
  stack: PhoneStack,
  server: ServerProcess,
  dataDir: string,
): Promise<void> {
  const { call, before } = await liveCallThenSigterm(stack, server);
  const statuses: number[] = [];
  const notReady = await pollUntil(
    async () => {
      const res = await fetch(`${server.url}/readyz`);
      statuses.push(res.status);
      return res.status === 503 ? true : undefined;
    },
    5000,
    20,
  );
  report.figure('drain: /readyz after SIGTERM (statuses seen)', [...new Set(statuses)]);
  report.check('drain: /readyz answers 503 once SIGTERM is received', notReady === true, statuses.slice(-3));
  const late = await stack
    .webhook(server.url)
    .catch((e: Error) => ({ status: 0, twiml: e.message, callSid: '' }));
  report.figure('drain: a new webhook during the drain', `${late.status} ${twimlKind(late.twiml)}`);
  report.check(
    'drain: a new call gets the polite refusal (<Say> + <Hangup/>)',
    late.status === 200 && twimlKind(late.twiml) === 'refusal',
    `${late.status} ${late.twiml.slice(0, 160)}`,
  );

  const finished = await fileClaimByKeypad(call, { from: 'date', timeoutMs: 30_000 })
    .then(() => stack.rest.waitForHangUp(call.callSid, 30_000))
    .then(() => call.waitForClosed(10_000))
    .then(
      () => null,
      (e: Error) => e.message,
    );
  report.figure('drain: the live call', callerSummary(call, before));
  report.check(
    'drain: the live call finishes and the bot hangs up through the REST API',
    finished === null,
    finished,
  );
  const exit = await exitWithin(server, 60_000);
  report.figure('drain: exit', exit ?? 'still running after 60 s (killed)');
  report.equal('drain: the process exits 0', exit, { code: 0, signal: null });
  const row = await storedConversation(dataDir, call.callSid).catch(() => null);
  report.figure('drain: stored', claimFields(row) ?? 'missing');
  report.equal('drain: the call is stored done with its fields', claimFields(row), COMPLETED_CLAIM);
}

async function drainTimesOut(
  report: ScenarioReport,
  stack: PhoneStack,
  server: ServerProcess,
  dataDir: string,
): Promise<void> {
  const { call, before } = await liveCallThenSigterm(stack, server);
  // The caller says nothing more: the drain timeout has to end the call.
  const hungUp = await Promise.race([
    stack.rest.waitForHangUp(call.callSid, 30_000).catch(() => null),
    server.exited.then(() => null),
  ]);
  const update = stack.rest.twimlUpdates.find((u) => u.callSid === call.callSid);
  await call.waitForClosed(10_000).catch(() => null);
  report.figure(
    'timeout: REST update the caller got',
    update?.twiml ?? (hungUp ? `status ${hungUp.status}` : 'none'),
  );
  report.figure('timeout: the caller', callerSummary(call, before));
  report.check(
    'timeout: the unfinished call gets a goodbye and a REST hang-up (<Say> + <Hangup/>)',
    !!update && /<Say[\s>]/.test(update.twiml) && /<Hangup\s*\/>/.test(update.twiml),
    update?.twiml ?? 'no TwiML update',
  );
  const exit = await exitWithin(server, 30_000);
  report.figure('timeout: exit', exit ?? 'still running after 30 s (killed)');
  report.equal('timeout: the process exits 0', exit, { code: 0, signal: null });
  const row = await storedConversation(dataDir, call.callSid).catch(() => null);
  report.figure(
    'timeout: stored',
    row ? `${row.state}, ended ${row.ended_at ? 'yes' : 'no'}, ${row.end_reason}` : 'missing',
  );
  report.check('timeout: the call is stored as ended', !!row?.ended_at, claimFields(row));
}

async function npmStartForwardsSigterm(report: ScenarioReport): Promise<void> {
  const dir = tempDir('npm');
  const npm = await startServerProcess({ env: { DATA_DIR: dir.path }, via: 'npm' }).catch((e: Error) => {
    dir.remove();
    throw e;
  });
  const tree = descendantsOf(npm.pid);
  report.figure('npm start: processes under npm', tree.map(commandOf));
  process.kill(npm.pid, 'SIGTERM'); // the npm process alone, as a process manager does
  const exit = await exitWithin(npm, 30_000);
  const gone = await pollUntil(() => (tree.every((p) => !isAlive(p)) ? true : undefined), 30_000, 100);
  const survivors = tree.filter(isAlive).map((pid) => ({ pid, command: commandOf(pid) }));
  for (const { pid } of survivors) process.kill(pid, 'SIGKILL'); // clean up what we started
  report.figure('npm start: npm exit', exit ?? 'still running (killed)');
  report.figure(
    'npm start: left running after SIGTERM to npm',
    survivors.map((s) => s.command),
  );
  report.check('npm start: SIGTERM to npm stops the server too (no orphan)', gone === true, survivors);
  dir.remove();
}

export const sigtermDrain: Scenario = {
  id: 'sigterm',
  title:
    'SIGTERM drains: readiness off, new calls refused politely, live calls finish or get a goodbye, exit 0',
  async run(report) {
    await withPhoneServer(report, 'drain', {}, ({ stack, server, dataDir }) =>
      drainFinishes(report, stack, server, dataDir),
    );
    await withPhoneServer(report, 'drain-timeout', { DRAIN_TIMEOUT_S: '2' }, ({ stack, server, dataDir }) =>
      drainTimesOut(report, stack, server, dataDir),
    );
    await npmStartForwardsSigterm(report);
  },
};
