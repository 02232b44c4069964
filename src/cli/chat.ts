/**
 * `npm run chat`: talk to the bot in a terminal. It connects to the running server's
 * `/client/stream` (so the conversation is stored and visible in the API like any call); if no
 * server answers, it starts one in this process. It prints the bot's turns, the claim card and the
 * machine states as they change.
 *
 * Typed lines are caller turns; `/dtmf 1`, `/dtmf 03032026#` send keypad digits; `/quit` hangs up.
 * Piped input (`printf 'got it\nMarch 3rd\n' | npm run chat`) is sent one line per bot turn.
 */
import readline from 'node:readline';
import WebSocket from 'ws';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { startServer, type RunningServer } from '../server/start-server.js';

const c = {
  dim: (s: string) => `\x1b[2m${s}\x1b[0m`,
  bot: (s: string) => `\x1b[36m${s}\x1b[0m`,
  you: (s: string) => `\x1b[33m${s}\x1b[0m`,
  card: (s: string) => `\x1b[32m${s}\x1b[0m`,
  err: (s: string) => `\x1b[31m${s}\x1b[0m`,
};

async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  let base = process.env.CHAT_URL ?? `http://localhost:${config.PORT}`;
  let embedded: RunningServer | null = null;
  if (!(await reachable(base))) {
    console.log(c.dim(`no server at ${base}; starting one in this process`));
    embedded = await startServer(
      { ...config, PORT: 0, HOST: '127.0.0.1' },
      createLogger('warn', { pretty: false }),
    );
    base = embedded.url;
  }
  const wsUrl = new URL('/client/stream', base.replace(/^http/, 'ws'));
  if (config.DASHBOARD_TOKEN) wsUrl.searchParams.set('token', config.DASHBOARD_TOKEN);
  const ws = new WebSocket(wsUrl);
  const piped = !process.stdin.isTTY;
  const queue: string[] = [];
  let ready = false;
  let conversationId = '';
  let lastCard = '';
  const lastState = new Map<string, string>();

  const sendLine = (line: string) => {
    const t = line.trim();
    if (!t) return;
    if (t === '/quit') {
      ws.send(JSON.stringify({ event: 'hangup' }));
      return;
    }
    if (t.startsWith('/dtmf ')) {
      for (const d of t.slice(6).replace(/\s/g, '')) ws.send(JSON.stringify({ event: 'dtmf', digit: d }));
      console.log(c.you(`you (keypad): ${t.slice(6)}`));
      return;
    }
    if (piped) console.log(c.you(`you: ${t}`));
    ws.send(JSON.stringify({ event: 'text', text: t }));
  };
  const pump = () => {
    if (piped && ready && queue.length > 0) {
      ready = false;
      sendLine(queue.shift()!);
    }
  };

  ws.on('message', (raw) => {
    const m = JSON.parse(String(raw)) as Record<string, unknown> & { event: string };
    switch (m.event) {
      case 'session.started':
        conversationId = String(m.conversationId);
        console.log(c.dim(`conversation ${conversationId} · claim ${String(m.claimId)}`));
        break;
      case 'bot.text':
        console.log(c.bot(`bot: ${String(m.text)}`));
        break;
      case 'state.changed': {
        // Self-transitions (e.g. a turn-policy update) are stored for replay; not worth a line here.
        const value = JSON.stringify(m.value);
        if (lastState.get(String(m.actor)) === value) break;
        lastState.set(String(m.actor), value);
        console.log(c.dim(`  [${String(m.actor)}] ${value}  ← ${String(m.eventType)}`));
        break;
      }
      case 'claim.updated': {
        const cl = m.claim as Record<string, unknown>;
        const card = `claim ${String(cl.claimId)} | state ${String(cl.state)} (${String(cl.path)}) | date ${String(cl.claimDate ?? '—')} | amount ${cl.claimAmount ?? '—'} | status ${String(cl.claimStatus)}`;
        if (card !== lastCard) console.log(c.card(`  ┌ ${card}`));
        lastCard = card;
        break;
      }
      case 'bot.turn.ended':
        if (m.interrupted) console.log(c.dim(`  (interrupted; heard: "${String(m.heardText)}")`));
        ready = true;
        setTimeout(pump, 50);
        break;
      case 'error':
        console.log(c.err(`error: ${String(m.message)}`));
        break;
      case 'session.ended':
        console.log(c.dim(`call ended (${String(m.reason)})`));
        break;
      default:
        break;
    }
  });
  ws.on('unexpected-response', (_req, res) => {
    console.error(c.err(`server refused the connection: HTTP ${res.statusCode}`));
    process.exit(1);
  });
  ws.on('error', (err) => console.error(c.err(`connection error: ${err.message}`)));
  ws.on('close', async () => {
    if (conversationId)
      console.log(
        c.dim(
          `\nconversation id: ${conversationId}\n  ${base}/api/conversations/${conversationId}\n  npm run replay -- ${conversationId}`,
        ),
      );
    if (embedded) {
      await embedded.flush();
      await embedded.stop();
    }
    process.exit(0);
  });

  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    if (piped) {
      queue.push(line);
      pump();
    } else if (ws.readyState === ws.OPEN) sendLine(line);
  });
  rl.on('close', () => {
    if (!piped && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event: 'hangup' }));
  });
}

main().catch((err: unknown) => {
  console.error(c.err(`chat failed: ${err instanceof Error ? err.message : String(err)}`));
  process.exit(1);
});
