/**
 * The server's log lines as an operator reads them, from a real process (`node --import tsx
 * src/main.ts`): JSON lines by default when stdout is not a terminal (production, containers,
 * log shippers), readable pino-pretty lines with `LOG_FORMAT=pretty` (what `npm start` shows in a
 * terminal); in both, every line of a call carries its conversation id.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServerProcess, type ServerProcess } from '../faults/support/server-process.js';

/** A typed call over /client/stream: one caller turn, then the caller hangs up. */
async function typedCall(server: ServerProcess): Promise<string> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/client/stream`);
  let conversationId = '';
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as {
        event?: string;
        type?: string;
        conversationId?: string;
        turn?: number;
      };
      const kind = m.event ?? m.type;
      if (kind === 'session.started') conversationId = m.conversationId ?? '';
      if (kind === 'bot.turn.ended' && m.turn === 1)
        ws.send(JSON.stringify({ event: 'text', text: 'got it' }));
      if (kind === 'bot.turn.ended' && m.turn === 2) ws.send(JSON.stringify({ event: 'hangup' }));
    });
    ws.once('close', () => resolve());
  });
  return conversationId;
}

async function withServer(env: Record<string, string>, body: (s: ServerProcess) => Promise<void>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-logs-'));
  const server = await startServerProcess({ env: { DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env } });
  try {
    await body(server);
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The lines mentioning the call, once it has been logged as ended. */
async function callLines(server: ServerProcess, id: string): Promise<string[]> {
  for (let i = 0; i < 100 && !server.lines().some((l) => l.includes('call ended')); i++)
    await new Promise((r) => setTimeout(r, 100));
  return server.lines().filter((l) => l.includes(id));
}

describe('the server logs', () => {
  it('writes JSON lines off a terminal, each line of a call with its conversation id', async () => {
    await withServer({}, async (server) => {
      const id = await typedCall(server);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      await callLines(server, id);
      const json = server
        .lines()
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(json.length).toBeGreaterThan(0);
      const ofCall = json.filter((l) => ['call started', 'call ended'].includes(String(l.msg)));
      expect(ofCall.map((l) => [l.msg, l.conversationId])).toEqual([
        ['call started', id],
        ['call ended', id],
      ]);
      expect(ofCall.every((l) => typeof l.time === 'number' && l.level === 30)).toBe(true);
    });
  }, 90_000);

  it('prints readable lines with LOG_FORMAT=pretty, the call id first on each line of the call', async () => {
    await withServer({ LOG_FORMAT: 'pretty' }, async (server) => {
      const id = await typedCall(server);
      const lines = await callLines(server, id);
      expect(server.lines().some((l) => l.startsWith('{'))).toBe(false);
      expect(
        lines.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[[0-9a-f-]{36}\] call started/.test(l)),
      ).toBe(true);
      expect(lines.some((l) => l.includes(`[${id}] call ended`))).toBe(true);
    });
  }, 90_000);
});
