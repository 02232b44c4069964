/**
 * `npm run chat`: talk to the bot in a terminal. It connects to the running server's
 * `/client/stream` (so the conversation is stored and visible in the API like any call), found
 * from CHAT_URL, PORT (shell or `.env`) or the DATA_DIR lock; if no server answers and DATA_DIR is
 * free, it starts one in this process (never a second one on a held DATA_DIR). It prints the bot's turns, the claim card and the
 * machine states as they change.
 *
 * Typed lines are caller turns (after the `you: ` prompt); `/dtmf 1`, `/dtmf 03032026#` send
 * keypad digits; `/quit` hangs up (both said at start). Piped input
 * (`printf 'got it\nMarch 3rd\n' | npm run chat`) is sent one line per bot turn and echoed as
 * `you: ...`. Each bot turn is printed whole on one line (a claim number read out as "C. L. M. ..."
 * is never split across sentences). Colours only on a terminal (and never with NO_COLOR).
 */
import readline from 'node:readline';
import WebSocket from 'ws';
import { loadConfig, type AppConfig } from '../config.js';
import { loadDotEnv } from '../load-dotenv.js';
import { lockHolderOf } from '../store/data-dir-lock.js';
import { createLogger } from '../logger.js';
import { startServer, type RunningServer } from '../http/start-server.js';

const useColour = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (useColour ? `\x1b[${code}m${s}\x1b[0m` : s);
const c = {
  dim: paint(2),
  bot: paint(36),
  you: paint(33),
  card: paint(32),
  err: paint(31),
};

async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * The running server to talk to: CHAT_URL, else PORT (shell, then .env), else the port recorded
 * in the DATA_DIR lock by whichever server holds it. Null when none answers and DATA_DIR is free;
 * throws when DATA_DIR is held by a server that does not answer (starting a second one on the
 * same folder would corrupt its database).
 */
async function findServer(config: AppConfig): Promise<string | null> {
  const configured = process.env.CHAT_URL ?? `http://localhost:${config.PORT}`;
  if (await reachable(configured)) return configured;
  const holder = lockHolderOf(config.DATA_DIR);
  if (!holder) return null;
  const fromLock = holder.port ? `http://localhost:${holder.port}` : null;
  if (fromLock && (await reachable(fromLock))) return fromLock;
  throw new Error(
    `no server answers at ${configured}${fromLock ? ` or ${fromLock}` : ''}, but DATA_DIR ${config.DATA_DIR} is ` +
      `held by process ${holder.pid} on ${holder.host} (since ${holder.since}). Not starting a second server ` +
      `on the same data folder. Set PORT (or CHAT_URL) to that server's address, or stop it, or set DATA_DIR ` +
      `to another folder.`,
  );
}

async function main(): Promise<void> {
  loadDotEnv(); // the same .env as `npm start`: PORT and DATA_DIR lead to the running server
  const config = loadConfig();
  let embedded: RunningServer | null = null;
  let base = await findServer(config);
  if (base === null) {
    console.log(c.dim(`no server at http://localhost:${config.PORT}; starting one in this process`));
    // startServer takes the DATA_DIR lock itself: a server started meanwhile makes it refuse.
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
  /** The bot's words of each turn, printed whole when the turn ends. */
  const botWords = new Map<number, string[]>();
  const prompt = () => {
    if (!piped && ws.readyState === ws.OPEN) process.stdout.write(c.you('you: '));
  };

  const sendLine = (line: string) => {
    const t = line.trim();
    if (!t) return;
    if (t === '/quit') {
      ws.send(JSON.stringify({ event: 'hangup' }));
      return;
    }
    if (t.startsWith('/dtmf ')) {
      for (const d of t.slice(6).replace(/\s/g, '')) ws.send(JSON.stringify({ event: 'dtmf', digit: d }));
      if (piped) console.log(c.you(`you (keypad): ${t.slice(6)}`));
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
        console.log(c.dim('type your answers; /dtmf 03032026# sends keypad digits; /quit hangs up'));
        break;
      case 'bot.text': {
        const turn = Number(m.turn);
        botWords.set(turn, [...(botWords.get(turn) ?? []), String(m.text)]);
        break;
      }
      case 'state.changed': {
        // Self-transitions (e.g. a turn-policy update) are stored for replay; not worth a line here.
        const value = JSON.stringify(m.value);
        if (lastState.get(String(m.actor)) !== value) {
          lastState.set(String(m.actor), value);
          console.log(c.dim(`  [${String(m.actor)}] ${value}  ← ${String(m.eventType)}`));
        }
        // The caller has the floor once the bot's turn is over and the call machine listens.
        if (m.actor === 'call' && m.eventType === 'bot.turn.completed' && value === '{"active":"listening"}')
          prompt();
        break;
      }
      case 'claim.updated': {
        const cl = m.claim as Record<string, unknown>;
        const card = `claim ${String(cl.claimId)} | state ${String(cl.state)} (${String(cl.path)}) | date ${String(cl.claimDate ?? '—')} | amount ${cl.claimAmount ?? '—'} | status ${String(cl.claimStatus)}`;
        if (card !== lastCard) console.log(c.card(`  ┌ ${card}`));
        lastCard = card;
        break;
      }
      case 'bot.turn.ended': {
        const turn = Number(m.turn);
        const words = String(m.text ?? '').trim() || (botWords.get(turn) ?? []).join(' ');
        botWords.delete(turn);
        if (words) console.log(c.bot(`bot: ${words}`));
        if (m.interrupted) console.log(c.dim(`  (interrupted; heard: "${String(m.heardText)}")`));
        ready = true;
        if (piped) setTimeout(pump, 50);
        break;
      }
      case 'turn.prepared.discarded':
        console.log(
          c.dim(
            `  (prepared reply to "${String(m.userText)}" discarded, ${String(m.reason)}: "${String(m.text)}")`,
          ),
        );
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
    // The API URL only while a server keeps answering there (not the one this process ran).
    if (conversationId)
      console.log(
        c.dim(
          `\nconversation id: ${conversationId}\n` +
            (embedded ? '' : `  ${base}/api/conversations/${conversationId}\n`) +
            `  npm run replay -- ${conversationId}`,
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
