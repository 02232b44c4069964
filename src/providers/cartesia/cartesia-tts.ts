/**
 * Cartesia TTS over WebSocket: one socket per call (opened at call start, so the first turn does
 * not pay the handshake), one context per bot turn, `pcm_mulaw` 8 kHz straight to Twilio.
 *
 * SDK traps handled here (PROTOCOLS.md §0): the ESM build of @cartesia/cartesia-js 4.2.0 cannot find
 * `ws` on Node 20, so the CJS build is loaded with createRequire; the SDK always rewrites the socket
 * URL to wss:, so a plain-http base URL (a local fake or a self-hosted gateway) is reached through
 * `createConnection`. Cancel is best effort on the server; late chunks of a cancelled context are
 * dropped here.
 */
import net from 'node:net';
import { createRequire } from 'node:module';
import { ProviderError } from '../types.js';
import type { TtsConnection, TtsProvider, TtsTurn, TtsTurnHandlers } from '../tts-types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const require = createRequire(import.meta.url);
const CartesiaSdk = require('@cartesia/cartesia-js') as { Cartesia?: Any; default?: Any };
const CartesiaClient: Any = CartesiaSdk.Cartesia ?? CartesiaSdk.default;
// `client.tts.websocket()` connects before returning the socket, and the SDK turns an `error`
// with no listener into an unhandled rejection (which would kill the process on a 401 or a
// refused connection). So the socket is built here, its listener attached, then connected.
const { TTSWS } = require('@cartesia/cartesia-js/resources/tts/ws') as { TTSWS: Any };

/** Options of the Cartesia provider. */
export interface CartesiaTtsOptions {
  apiKey: string;
  /** Base URL (`CARTESIA_URL`): https://api.cartesia.ai, or http://127.0.0.1:PORT for a local fake. */
  url?: string;
  voiceId: string;
  model: string;
  language?: string;
}

/** Creates the Cartesia provider. */
export function createCartesiaTts(opts: CartesiaTtsOptions): TtsProvider {
  const plainHttp = opts.url?.startsWith('http://') ?? false;
  const client = new CartesiaClient({ apiKey: opts.apiKey, ...(opts.url ? { baseURL: opts.url } : {}) });

  return {
    name: 'cartesia',
    audible: true,
    connect(): TtsConnection {
      let closed = false;
      const wsOptions = plainHttp
        ? {
            createConnection: (o: { host?: string; hostname?: string; port?: string | number }) =>
              net.connect({ host: o.hostname ?? o.host ?? '127.0.0.1', port: Number(o.port) }),
          }
        : undefined;
      const socketPromise: Promise<Any> = Promise.resolve().then(async () => {
        const ws = new TTSWS(client, wsOptions);
        ws.on('error', () => {
          /* surfaced per turn: the context's receive() or send() fails */
        });
        await ws.connect();
        return ws;
      });
      socketPromise.catch(() => {
        /* reported to the first turn that needs it */
      });

      return {
        startTurn(turnId: string, h: TtsTurnHandlers): TtsTurn {
          let cancelled = false;
          let ctx: Any = null;
          let chain: Promise<unknown> = Promise.resolve();
          const fail = (err: unknown) => {
            if (cancelled) return;
            cancelled = true;
            const msg = err instanceof Error ? err.message : String(err);
            h.onError(new ProviderError('tts', 'cartesia', msg, true));
          };
          const ready = socketPromise.then((ws) => {
            ctx = ws.context({
              contextId: turnId,
              model_id: opts.model,
              voice: { mode: 'id', id: opts.voiceId },
              output_format: { container: 'raw', encoding: 'pcm_mulaw', sample_rate: 8000 },
              language: opts.language ?? 'en',
              add_timestamps: true,
              max_buffer_delay_ms: 0,
            });
            void (async () => {
              try {
                for await (const ev of ctx.receive()) {
                  if (cancelled) break;
                  if (ev.type === 'chunk' && ev.data) h.onAudio(Buffer.from(ev.data as string, 'base64'));
                  else if (ev.type === 'timestamps' && ev.word_timestamps) {
                    const w = ev.word_timestamps as { words: string[]; start: number[]; end: number[] };
                    h.onWordTimestamps?.(w.words, w.start, w.end);
                  } else if (ev.type === 'done') {
                    if (!cancelled) h.onDone();
                    return;
                  }
                }
                if (!cancelled) fail(new Error('synthesis ended without done'));
              } catch (err) {
                fail(err);
              }
            })();
          });
          ready.catch(fail);
          const enqueue = (fn: () => Promise<unknown>) => {
            chain = chain
              .then(() => ready)
              .then(() => (cancelled ? undefined : fn()))
              .catch(fail);
          };
          return {
            push(text) {
              if (!cancelled && text.trim()) enqueue(() => ctx.push({ transcript: `${text.trim()} ` }));
            },
            end() {
              enqueue(() => ctx.no_more_inputs());
            },
            cancel() {
              if (cancelled) return;
              cancelled = true;
              void ready.then(() => ctx?.cancel()).catch(() => {});
            },
          };
        },
        close() {
          if (closed) return;
          closed = true;
          void socketPromise.then((ws) => ws.close()).catch(() => {});
        },
      };
    },
  };
}
