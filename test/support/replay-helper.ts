/**
 * QA helpers for replaying recorded calls and for recording new ones through the whole engine.
 *
 * - Replay: {@link expectReplayMatches} re-drives a `ConversationDetail` (as
 *   `GET /api/conversations/:id` returns it) through the machines and throws a readable report on any
 *   divergence; {@link replayFixture} does the same for a golden log in `test/fixtures/calls/`;
 *   {@link storeGoldenCall} writes a golden log into a store as a served call (for `--all`);
 *   {@link runReplayCli} runs `npm run replay`.
 * - Recording: {@link startLocalServer} starts the real server (PGlite in a temp dir, local
 *   dialogue, fixed date) on an ephemeral port; {@link connectBrowserCall} talks to it over the real
 *   `/client/stream` WebSocket; {@link runScriptedCall} plays a caller script turn by turn;
 *   {@link fetchConversation} reads the stored result back through the API.
 *
 * Nothing here asserts on wall-clock time: waits have a generous limit only so a broken engine fails
 * with a message instead of a silent jest timeout.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import {
  formatReplayReport,
  replayConversation,
  type ReplayMachines,
  type ReplayReport,
  type StoredClaim,
} from '../../src/replay/replay.js';
import { startServer, type RunningServer, type ServerOverrides } from '../../src/http/start-server.js';
import type { ConversationDetail, ConversationStore } from '../../src/store/types.js';

/** Folder of the golden call logs. */
export const CALL_FIXTURES_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/calls',
);

/** The date every golden log and engine test runs on (claim date guards depend on it). */
export const FIXED_TODAY = '2026-11-24';

// ---------------------------------------------------------------------------------------------
// Replay
// ---------------------------------------------------------------------------------------------

/**
 * Replays a stored conversation through the machines (today's unless `machines` says otherwise) and
 * throws, with the full step-by-step report, when any step or claim field (compared with the row in
 * `detail.conversation`, when there is one) diverges or the log is unusable (no `xstate.init`, gaps
 * in seq, empty log). Returns the report so a test can check more (e.g. the steps per actor).
 */
export function expectReplayMatches(
  detail: Pick<ConversationDetail, 'transitions'> & { conversation?: StoredClaim | null },
  machines?: Partial<ReplayMachines>,
): ReplayReport {
  const report = replayConversation(detail, machines);
  if (report.steps.length === 0) throw new Error('replay: the log has no transitions');
  if (!report.ok) throw new Error(`replay diverged from the recorded log:\n${formatReplayReport(report)}`);
  return report;
}

/** Names of the golden call logs (file names without `.json`), sorted. */
export function listCallFixtures(): string[] {
  return fs
    .readdirSync(CALL_FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** Absolute path of a golden call log. */
export function callFixturePath(name: string): string {
  return path.join(CALL_FIXTURES_DIR, `${name}.json`);
}

/** Reads a golden call log (a `ConversationDetail`). Throws if it does not exist. */
export function loadCallFixture(name: string): ConversationDetail {
  return JSON.parse(fs.readFileSync(callFixturePath(name), 'utf8')) as ConversationDetail;
}

/** Loads a golden call log and replays it (see {@link expectReplayMatches}). */
export function replayFixture(name: string): { detail: ConversationDetail; report: ReplayReport } {
  const detail = loadCallFixture(name);
  return { detail, report: expectReplayMatches(detail) };
}

/**
 * Writes a golden call log into a store as a new ended conversation (fresh id and claim number,
 * same recorded events, states and claim columns), as if that call had been served by this store.
 * `conversation` overrides columns of the stored row (e.g. `created_at`, `ended_at: null`).
 * Returns the new conversation id.
 */
export async function storeGoldenCall(
  store: Pick<ConversationStore, 'createConversation' | 'updateConversation' | 'appendTransitions'>,
  name: string,
  conversation: Partial<ConversationDetail['conversation']> = {},
): Promise<string> {
  const golden = loadCallFixture(name);
  const row = { ...golden.conversation, ...conversation };
  const id = randomUUID();
  const claimId = `CLM-${randomInt(1000, 9999)}-${randomInt(1000, 9999)}`;
  await store.createConversation({
    id,
    call_sid: null,
    stream_sid: null,
    from_number: null,
    to_number: null,
    channel: row.channel,
    claim_id: claimId,
    machine_version: row.machine_version,
    created_at: row.created_at,
  });
  await store.updateConversation(id, {
    claim_date: row.claim_date,
    claim_amount: row.claim_amount,
    claim_status: row.claim_status,
    state: row.state,
    ended_at: row.ended_at,
    end_reason: row.end_reason,
    updated_at: row.updated_at,
  });
  await store.appendTransitions(golden.transitions.map((t) => ({ ...t, conversation_id: id })));
  return id;
}

const REPO_ROOT = path.resolve(CALL_FIXTURES_DIR, '../../..');

/** Runs `npm run replay -- <args>` (via tsx, in the repository) with extra environment. */
export function runReplayCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['src/cli/replay.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// ---------------------------------------------------------------------------------------------
// A real server for tests
// ---------------------------------------------------------------------------------------------

/** A server started by {@link startLocalServer}; `stop()` also removes its temp data directory. */
export interface LocalServer extends RunningServer {
  dataDir: string;
  /** ws:// URL of `/client/stream`. */
  streamUrl: string;
}

/** Options of {@link startLocalServer}. */
export interface LocalServerOptions {
  /** Extra environment (e.g. `DASHBOARD_TOKEN`, `PUBLIC_URL`, `DATABASE_URL`) for `loadConfig`. */
  env?: Record<string, string>;
  /** Reference date for claim guards and the local dialogue (default {@link FIXED_TODAY}). */
  today?: string;
  overrides?: ServerOverrides;
}

/**
 * One local server for a test file: started before its tests, stopped after them. `current` is the
 * running server (read it inside tests and hooks, not at import time).
 */
export function useLocalServer(opts: LocalServerOptions = {}): { readonly current: LocalServer } {
  let server: LocalServer | null = null;
  beforeAll(async () => {
    server = await startLocalServer(opts);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get current(): LocalServer {
      if (!server) throw new Error('the local server is not started yet');
      return server;
    },
  };
}

/**
 * Starts the whole server (config defaults → store → outbox → local dialogue → app) on 127.0.0.1
 * with an ephemeral port and a fresh temp `DATA_DIR` (PGlite unless `env.DATABASE_URL` is given).
 * Logs are silenced. Always call `stop()` (typically in `afterAll`).
 */
export async function startLocalServer(opts: LocalServerOptions = {}): Promise<LocalServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-test-'));
  const config = loadConfig({ ...opts.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir });
  const today = opts.today ?? FIXED_TODAY;
  let server: RunningServer;
  try {
    server = await startServer(config, createLogger('silent', { pretty: false }), {
      today: () => today,
      ...opts.overrides,
    });
  } catch (err) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const stop = server.stop.bind(server);
  return Object.assign(server, {
    dataDir,
    streamUrl: `${server.url.replace(/^http/, 'ws')}/client/stream`,
    async stop() {
      await stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL for tests
// ---------------------------------------------------------------------------------------------

/**
 * The PostgreSQL server tests may use (`TEST_DATABASE_URL`), or undefined. With
 * `STATECALL_REQUIRE_ALL_SUITES=1` a missing URL is an error instead of a reason to skip.
 */
export function postgresTestUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL;
  if (!url && process.env.STATECALL_REQUIRE_ALL_SUITES === '1') {
    throw new Error('STATECALL_REQUIRE_ALL_SUITES=1 but TEST_DATABASE_URL is not set');
  }
  return url || undefined;
}

/**
 * Creates an empty database on the server of `serverUrl` (so the engine's migrations run as on a
 * fresh install and repeated runs never see each other's rows) and returns its URL and a `drop()`
 * that removes it, disconnecting whatever is still connected.
 */
export async function createScratchDatabase(
  serverUrl: string,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `statecall_test_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin(`drop database if exists "${name}" with (force)`),
  };
}

/** Reads a conversation through `GET /api/conversations/:id`; throws unless the answer is 200. */
export async function fetchConversation(
  baseUrl: string,
  id: string,
  token?: string,
): Promise<ConversationDetail> {
  const res = await fetch(`${baseUrl}/api/conversations/${id}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (res.status !== 200) throw new Error(`GET conversation ${id}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as ConversationDetail;
}

// ---------------------------------------------------------------------------------------------
// A browser-stream client
// ---------------------------------------------------------------------------------------------

/** A server → client frame of `/client/stream`. */
export type StreamMessage = { event: string } & Record<string, unknown>;

/** How long a wait may take before it fails with a description (not a performance assertion). */
const WAIT_LIMIT_MS = 15_000;

/** One open `/client/stream` connection that records every frame it receives. */
export interface BrowserCall {
  readonly ws: WebSocket;
  /** Every frame received so far, in order. */
  readonly messages: StreamMessage[];
  /** Resolves with the close code and reason once the socket is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Sends a JSON frame. */
  send(frame: Record<string, unknown>): void;
  /** Sends a typed caller turn. */
  say(text: string): void;
  /** Sends keypad digits one frame per digit. */
  press(digits: string): void;
  /**
   * Resolves with the first frame at index >= `from` that matches; rejects if the socket closes or
   * the wait limit passes first.
   */
  waitFor(match: (m: StreamMessage) => boolean, from?: number, what?: string): Promise<StreamMessage>;
  /** Waits until the bot finished a turn and the call machine listens, after frame index `from`. */
  waitUntilListening(from: number): Promise<void>;
  close(): void;
}

/**
 * True when a frame reports the call machine back in `active.listening` because the bot finished
 * its turn (keypad digits also pass through `listening`, but only a finished bot turn means the
 * caller has the floor).
 */
export function isListening(m: StreamMessage): boolean {
  if (m.event !== 'state.changed' || m.actor !== 'call' || m.eventType !== 'bot.turn.completed') return false;
  const v = m.value as { active?: unknown } | string;
  return typeof v === 'object' && v !== null && v.active === 'listening';
}

/**
 * Opens `/client/stream` and resolves once the socket is open (the server then starts a session
 * and the bot speaks first). `token` is passed as `?token=`. Rejects with the HTTP status when the
 * upgrade is refused.
 */
export function connectBrowserCall(streamUrl: string, opts: { token?: string } = {}): Promise<BrowserCall> {
  const url = new URL(streamUrl);
  if (opts.token) url.searchParams.set('token', opts.token);
  const ws = new WebSocket(url);
  const messages: StreamMessage[] = [];
  const listeners = new Set<() => void>();
  let closeInfo: { code: number; reason: string } | null = null;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      resolve(closeInfo);
      for (const l of [...listeners]) l();
    });
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    messages.push(JSON.parse(String(data)) as StreamMessage);
    for (const l of [...listeners]) l();
  });

  const waitFor: BrowserCall['waitFor'] = (match, from = 0, what = 'a matching frame') =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = from; i < messages.length; i++) {
          const m = messages[i]!;
          if (match(m)) {
            resolve(m);
            return true;
          }
        }
        if (closeInfo) {
          const got = summary(messages, from);
          reject(new Error(`socket closed (${closeInfo.code}) before ${what}; got ${got}`));
          return true;
        }
        return false;
      };
      if (check()) return;
      const listener = () => {
        if (check()) stop();
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`no ${what} after ${WAIT_LIMIT_MS} ms; got ${summary(messages, from)}`));
      }, WAIT_LIMIT_MS);
      const stop = () => {
        listeners.delete(listener);
        clearTimeout(timer);
      };
      listeners.add(listener);
    });

  const call: BrowserCall = {
    ws,
    messages,
    closed,
    send: (frame) => ws.send(JSON.stringify(frame)),
    say: (text) => ws.send(JSON.stringify({ event: 'text', text })),
    press: (digits) => {
      for (const digit of digits) ws.send(JSON.stringify({ event: 'dtmf', digit }));
    },
    waitFor,
    waitUntilListening: async (from) => {
      await waitFor(isListening, from, 'call machine in active.listening');
    },
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(call));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`upgrade refused: HTTP ${res.statusCode}`));
      res.resume();
    });
    ws.once('error', reject);
  });
}

function summary(messages: StreamMessage[], from: number): string {
  const tail = messages.slice(from).map((m) => m.event);
  return tail.length ? tail.join(', ') : 'nothing';
}

/** One caller action: a typed utterance or keypad digits (`1`, `03032026#`, `950*25#`). */
export type CallerStep = { say: string } | { press: string };

/** The outcome of {@link runScriptedCall}. */
export interface ScriptedCall {
  conversationId: string;
  claimId: string;
  messages: StreamMessage[];
  close: { code: number; reason: string };
}

/**
 * Plays a caller script over `/client/stream`: waits for the bot's greeting, then sends each step
 * once the call machine is listening again. The last step is expected to end the call (the bot
 * hangs up after `done`); otherwise the caller hangs up. Resolves after the socket closed and the
 * server's outbox was flushed, so the stored rows are complete.
 */
export async function runScriptedCall(
  server: Pick<LocalServer, 'url' | 'streamUrl' | 'flush'>,
  steps: CallerStep[],
  opts: { token?: string; hangUpAtEnd?: boolean } = {},
): Promise<ScriptedCall> {
  const call = await connectBrowserCall(server.streamUrl, opts);
  const started = await call.waitFor((m) => m.event === 'session.started', 0, 'session.started');
  await call.waitUntilListening(0);
  for (const step of steps) {
    const from = call.messages.length;
    if ('say' in step) call.say(step.say);
    else call.press(step.press);
    if (step !== steps.at(-1)) await call.waitUntilListening(from);
  }
  if (opts.hangUpAtEnd) {
    await call.waitUntilListening(call.messages.length);
    call.send({ event: 'hangup' });
  }
  const close = await call.closed;
  await waitForStoredEnd(server, String(started.conversationId), opts.token);
  return {
    conversationId: String(started.conversationId),
    claimId: String(started.claimId),
    messages: call.messages,
    close,
  };
}

/**
 * Waits until the conversation row records the end of the call (`ended_at`), flushing the outbox
 * between reads: the session queues its final rows when the call machine stops.
 */
export async function waitForStoredEnd(
  server: Pick<LocalServer, 'url' | 'flush'>,
  id: string,
  token?: string,
): Promise<ConversationDetail> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    await server.flush();
    const res = await fetch(`${server.url}/api/conversations/${id}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    if (res.status === 200) {
      const detail = (await res.json()) as ConversationDetail;
      if (detail.conversation.ended_at !== null) return detail;
    }
    if (Date.now() > deadline) throw new Error(`conversation ${id} was not stored as ended`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
