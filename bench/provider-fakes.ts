/**
 * The latency bench's provider fakes (Deepgram, OpenAI, Cartesia) in a process of their own, so
 * their work (every 20 ms caller frame ends in the Deepgram fake; the Cartesia fake makes the
 * bot's audio) is done neither by the server under test nor on the simulated callers' event loop.
 *
 * Parent side: `await startProviderFakes(config)` spawns `node --import tsx bench/provider-fakes.ts`
 * with an IPC channel and resolves once the three fakes listen. Run as that process, this file
 * starts the fakes from the config in `BENCH_FAKES` (JSON) and answers requests:
 *
 *   parent -> child  { id, op: 'count' }                 -> { id, value: Deepgram sessions so far }
 *                    { id, op: 'session', index }        -> { id, value: { endpointing } } once it connected
 *                    { id, op: 'finals', index }         -> { id, value: epoch ms of each non-empty final }
 *                    { id, op: 'assign', index, length } -> { id, value: true } connection `index` carries that call
 *                    { id, op: 'cpu' }                   -> { id, value: this process's CPU ms }
 *                    { id, op: 'spoken' }                -> { id, value: [{ at, text }] } every Cartesia
 *                                                           context so far: epoch ms of its first
 *                                                           request, and the words it was given
 *   child -> parent  { type: 'ready', deepgramUrl, openaiUrl, cartesiaUrl } once listening
 *
 * Times cross the process boundary as epoch milliseconds (`performance.timeOrigin + now()`), so
 * the callers' clock and the fakes' compare. `close()` sends SIGTERM and waits for the exit.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startCartesiaFake } from '../test/fakes/cartesia-server.js';
import { startDeepgramFake } from '../test/fakes/deepgram-server.js';
import { startOpenAIFake } from '../test/fakes/openai-server.js';
import { deepgramScript, llmScript, type CallLength, type EngineWords } from './call-script.js';

/** What the fakes are started with. */
export interface ProviderFakesConfig {
  llmTtfbMs: number;
  ttsTtfbMs: number;
  /** Which scripted call a Deepgram connection hears unless told otherwise (`assign`). */
  length: CallLength;
  /** Cartesia fake audio per character of text. */
  msPerChar: number;
  /** The bare pipeline's words: the engine's, per caller utterance (see llmScript). */
  engineWords?: EngineWords;
}

/** One Cartesia context: when it started (epoch ms) and the words it was given. */
export interface SpokenContext {
  at: number;
  text: string;
}

/** The running fakes process, seen from the bench. */
export interface ProviderFakes {
  deepgramUrl: string;
  openaiUrl: string;
  cartesiaUrl: string;
  /** Deepgram connections accepted so far. */
  sessionCount(): Promise<number>;
  /**
   * Waits for the Deepgram connection whose audio holds `tag` (a call's silence mark, see
   * bench/call-latency.ts) and resolves with its index; -1 after 10 s.
   */
  sessionTagged(tag: readonly number[]): Promise<number>;
  /** Waits for Deepgram connection `index`; resolves with the `endpointing` it asked for. */
  session(index: number): Promise<{ endpointing: string }>;
  /** Epoch ms at which each non-empty final transcript of connection `index` was sent. */
  finals(index: number): Promise<number[]>;
  /** Connection `index` carries a call of this length (before its caller speaks). */
  assign(index: number, length: CallLength): Promise<void>;
  /** CPU time (user + system) of the fakes process so far, ms. */
  cpuMs(): Promise<number>;
  /** Every Cartesia context so far, in order. */
  spoken(): Promise<SpokenContext[]>;
  close(): Promise<void>;
}

type Question =
  | { op: 'count' | 'cpu' | 'spoken' }
  | { op: 'session' | 'finals'; index: number }
  | { op: 'tagged'; tag: number[] }
  | { op: 'assign'; index: number; length: CallLength };
type Request = Question & { id: number };
interface Urls {
  deepgramUrl: string;
  openaiUrl: string;
  cartesiaUrl: string;
}

/** Spawns the fakes process (see file header). */
export async function startProviderFakes(config: ProviderFakesConfig): Promise<ProviderFakes> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    cwd: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'),
    env: { ...process.env, BENCH_FAKES: JSON.stringify(config) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  const ready = new Promise<Urls>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`provider fakes exited with ${code}`)));
    child.on(
      'message',
      (m: ({ type: 'ready' } & Urls) | { type?: undefined; id: number; value: unknown }) => {
        if (m.type === 'ready') resolve(m);
        else {
          pending.get(m.id)?.(m.value);
          pending.delete(m.id);
        }
      },
    );
  });
  const { deepgramUrl, openaiUrl, cartesiaUrl } = await ready;
  const ask = <T>(req: Question): Promise<T> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (v: unknown) => void);
      child.send({ ...req, id });
    });
  return {
    deepgramUrl,
    openaiUrl,
    cartesiaUrl,
    sessionCount: () => ask({ op: 'count' }),
    sessionTagged: (tag) => ask({ op: 'tagged', tag: [...tag] }),
    session: (index) => ask({ op: 'session', index }),
    finals: (index) => ask({ op: 'finals', index }),
    assign: async (index, length) => void (await ask({ op: 'assign', index, length })),
    cpuMs: () => ask({ op: 'cpu' }),
    spoken: () => ask({ op: 'spoken' }),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serve(config: ProviderFakesConfig): Promise<void> {
  const lengths = new Map<number, CallLength>();
  const deepgram = await startDeepgramFake({
    utterances: deepgramScript((session) => lengths.get(session) ?? config.length),
  });
  const openai = await startOpenAIFake({ replies: llmScript(config.llmTtfbMs, config.engineWords) });
  const cartesia = await startCartesiaFake({
    msPerChar: config.msPerChar,
    ttfbMs: config.ttsTtfbMs,
    // The same words make the same audio for both pipelines: the bare one streams tokens (" the"),
    // the engine sentences; a per-input trim and one-chunk floor gave the bare pipeline 13% less.
    exactDuration: true,
  });
  const answer = (id: number, value: unknown) => process.send?.({ id, value });
  /** Connections already found by their tag (their audio is not searched again). */
  const tagged = new Set<number>();
  const findTagged = (tag: Buffer): number => {
    for (let i = 0; i < deepgram.sessions.length; i++) {
      if (tagged.has(i)) continue;
      if (deepgram.sessions[i]!.audio().includes(tag)) {
        tagged.add(i);
        return i;
      }
    }
    return -1;
  };
  process.on('message', (m: Request) => {
    switch (m.op) {
      case 'count':
        return answer(m.id, deepgram.sessions.length);
      case 'tagged': {
        const tag = Buffer.from(m.tag);
        const until = Date.now() + 10_000;
        const look = () => {
          const i = findTagged(tag);
          if (i >= 0 || Date.now() > until) answer(m.id, i);
          else setTimeout(look, 10);
        };
        return look();
      }
      case 'assign':
        lengths.set(m.index, m.length);
        return answer(m.id, true);
      case 'spoken':
        return answer(
          m.id,
          cartesia.contexts.map((c) => ({
            at: performance.timeOrigin + c.firstRequestAt,
            text: c.transcripts.join('').replace(/\s+/g, ' ').trim(),
          })),
        );
      case 'cpu': {
        const u = process.cpuUsage();
        return answer(m.id, (u.user + u.system) / 1000);
      }
      case 'session':
        return void deepgram.waitForSession(m.index, 10_000).then(
          (s) => answer(m.id, { endpointing: String(s.query.endpointing ?? 'default') }),
          () => answer(m.id, { endpointing: 'none' }),
        );
      case 'finals': {
        const s = deepgram.sessions[m.index];
        const at: number[] = [];
        s?.sent.forEach((msg, k) => {
          const alt = (msg.channel as { alternatives?: { transcript?: string }[] } | undefined)?.alternatives;
          if (msg.type === 'Results' && msg.is_final === true && alt?.[0]?.transcript) {
            at.push(performance.timeOrigin + s.sentAt[k]!);
          }
        });
        return answer(m.id, at);
      }
    }
  });
  process.on('SIGTERM', () => {
    void Promise.all([deepgram.close(), openai.close(), cartesia.close()]).finally(() => process.exit(0));
  });
  // The bench going away (crash, Ctrl-C) takes the fakes with it.
  process.on('disconnect', () => process.exit(0));
  process.send?.({
    type: 'ready',
    deepgramUrl: deepgram.url,
    openaiUrl: openai.url,
    cartesiaUrl: cartesia.url,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await serve(JSON.parse(process.env.BENCH_FAKES ?? '{}') as ProviderFakesConfig);
}
