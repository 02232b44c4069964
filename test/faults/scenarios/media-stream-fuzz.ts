/**
 * Media Streams fuzzer: >= 100k mutated messages over many signed sockets to /twilio/stream while a
 * real call files a claim on the keypad. The server never dies, the real call reaches `done` with
 * its fields, and once the sockets are closed no call slot stays taken and the outbox drains.
 */
import { WebSocket } from 'ws';
import type { ConversationDetail, ConversationRow } from '../../../src/store/types.js';
import { claimFields, COMPLETED_CLAIM } from '../support/log-integrity.js';
import { FuzzStream, seededRandom } from '../support/media-fuzz.js';
import { apiGet, fileClaimByKeypad, type PhoneStack } from '../support/phone-stack.js';
import type { Scenario, ScenarioReport } from '../support/report.js';
import { pollUntil, sleep, type ServerProcess } from '../support/server-process.js';
import { withPhoneServer } from '../support/with-server.js';

const TARGET_MESSAGES = Number(process.env.FAULTS_FUZZ_MESSAGES ?? 100_000);
const SOCKETS_AT_ONCE = 16;
const SEED = Number(process.env.FAULTS_SEED ?? 7);

interface FuzzTotals {
  sent: number;
  sockets: number;
  refusedUpgrades: Record<string, number>;
  closes: Record<string, number>;
  byKind: Record<string, number>;
}

/** One fuzzing socket: open, announce, send mutations until closed or `budget` is spent. */
async function fuzzOneSocket(
  stack: PhoneStack,
  server: ServerProcess,
  rnd: () => number,
  totals: FuzzTotals,
  budget: number,
): Promise<void> {
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/twilio/stream`, {
    headers: stack.streamHeaders(),
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('error', () => {});
  const opened = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('unexpected-response', (_req, res) => {
      const s = String(res.statusCode);
      totals.refusedUpgrades[s] = (totals.refusedUpgrades[s] ?? 0) + 1;
      ws.terminate();
      resolve(false);
    });
    ws.once('error', () => resolve(false));
  });
  if (!opened) {
    await sleep(20);
    return;
  }
  totals.sockets++;
  const stream = new FuzzStream(rnd);
  const send = (m: { kind: string; data: string | Buffer; binary: boolean }) => {
    if (ws.readyState !== WebSocket.OPEN) return false;
    ws.send(m.data, { binary: m.binary });
    totals.sent++;
    totals.byKind[m.kind] = (totals.byKind[m.kind] ?? 0) + 1;
    return true;
  };
  send(stream.connected());
  if (rnd() < 0.4) send(stream.start());
  for (let i = 0; i < budget && totals.sent < TARGET_MESSAGES; i++) {
    if (!send(stream.next())) break;
    if (ws.bufferedAmount > 256 * 1024 || i % 25 === 0) await sleep(ws.bufferedAmount > 256 * 1024 ? 5 : 0);
  }
  // Leave the way real and broken clients do: stop + close, close, or a dropped connection.
  const how = rnd();
  if (ws.readyState === WebSocket.OPEN) {
    if (how < 0.4) {
      ws.send(JSON.stringify({ event: 'stop', streamSid: stream.streamSid }));
      ws.close(1000);
    } else if (how < 0.7) ws.close(how < 0.6 ? 1000 : 4000);
    else ws.terminate();
  }
  const timer = setTimeout(() => ws.terminate(), 5000);
  const code = await closed;
  clearTimeout(timer);
  totals.closes[String(code)] = (totals.closes[String(code)] ?? 0) + 1;
}

async function findConversation(
  server: ServerProcess,
  callSid: string,
): Promise<ConversationDetail | undefined> {
  return pollUntil(
    async () => {
      const { conversations } = await apiGet<{ conversations: ConversationRow[] }>(
        server.url,
        '/api/conversations?state=done&limit=200',
      );
      const row = conversations.find((c) => c.call_sid === callSid);
      if (!row?.ended_at) return undefined;
      return apiGet<ConversationDetail>(server.url, `/api/conversations/${row.id}`);
    },
    30_000,
    250,
  );
}

async function fuzz(report: ScenarioReport, stack: PhoneStack, server: ServerProcess): Promise<void> {
  const rnd = seededRandom(SEED);
  const totals: FuzzTotals = { sent: 0, sockets: 0, refusedUpgrades: {}, closes: {}, byKind: {} };
  let maxPending = 0;
  let maxActive = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const h = await server.health().catch(() => null);
      if (h) {
        maxPending = Math.max(maxPending, h.outbox?.pending ?? 0);
        maxActive = Math.max(maxActive, h.activeCalls ?? 0);
      }
      await sleep(250);
    }
  })();

  const t0 = performance.now();
  const workers = Array.from({ length: SOCKETS_AT_ONCE }, async () => {
    while (totals.sent < TARGET_MESSAGES && server.alive()) {
      await fuzzOneSocket(stack, server, rnd, totals, 40 + Math.floor(rnd() * 300));
    }
  });
  // The real call starts once the fuzz is under way and runs through it.
  await sleep(500);
  const call = await stack.call(server.url);
  const realCall = (async () => {
    await fileClaimByKeypad(call, { timeoutMs: 120_000 });
    await stack.rest.waitForHangUp(call.callSid, 120_000);
    return call.waitForClosed(30_000);
  })().catch((err: Error) => err);
  await Promise.all(workers);
  const fuzzSeconds = (performance.now() - t0) / 1000;
  const callEnd = await realCall;
  sampling = false;
  await sampler;

  report.figure('messages sent', totals.sent);
  report.figure('msgs/s', totals.sent / fuzzSeconds);
  report.figure('fuzz time (s)', fuzzSeconds);
  report.figure('fuzz sockets opened', totals.sockets);
  report.figure('upgrades refused (status: n)', totals.refusedUpgrades);
  report.figure('socket closes (code: n)', totals.closes);
  report.figure('streams the server closed for bad input (1008)', totals.closes['1008'] ?? 0);
  report.figure('bad-message warnings the server logged', server.count('invalid media stream message'));
  report.figure('sent by kind', totals.byKind);
  report.figure('outbox pending max / activeCalls max', `${maxPending} / ${maxActive}`);
  report.check(`at least ${TARGET_MESSAGES} messages were sent`, totals.sent >= TARGET_MESSAGES, totals.sent);
  report.check('the server process never died', server.alive(), server.lines().slice(-20).join('\n'));

  report.check(
    'the real call ended with the bot hanging up',
    !(callEnd instanceof Error),
    callEnd instanceof Error ? callEnd.message : callEnd,
  );
  const detail = await findConversation(server, call.callSid);
  const c = detail?.conversation;
  report.figure(
    'real call result',
    c ? `${c.state} ${c.claim_status} ${c.claim_date} ${c.claim_amount} ${c.end_reason}` : 'not found',
  );
  report.equal('the real call is stored done with its fields', claimFields(c), COMPLETED_CLAIM);

  let last = { activeCalls: -1, pending: -1 };
  const drainStart = performance.now();
  const settled = await pollUntil(
    async () => {
      const h = await server.health();
      last = { activeCalls: h.activeCalls ?? -1, pending: h.outbox?.pending ?? -1 };
      return last.activeCalls === 0 && last.pending === 0 ? true : undefined;
    },
    60_000,
    250,
  );
  report.figure(
    'after the sockets closed: activeCalls / outbox pending',
    `${last.activeCalls} / ${last.pending}`,
  );
  report.figure('time for both to reach 0 after the fuzz (s)', (performance.now() - drainStart) / 1000);
  report.check('activeCalls returns to 0 (no leaked slot)', settled === true || last.activeCalls === 0, last);
  report.check('outbox pending returns to 0', settled === true || last.pending === 0, last);
  report.check('the server is still alive at the end', server.alive());
}

export const mediaStreamFuzz: Scenario = {
  id: 'fuzz',
  title: 'the server survives 100k fuzzed Media Streams messages while a real call files its claim',
  run: (report) =>
    withPhoneServer(
      report,
      'fuzz',
      { MAX_CONCURRENT_CALLS: String(SOCKETS_AT_ONCE * 4) },
      ({ stack, server }) => fuzz(report, stack, server),
    ),
};
