/**
 * Deepgram live transcription (nova-3, mulaw/8000, interim results, endpointing, utterance end).
 *
 * The engine owns reconnection (the SDK's is disabled: `reconnectAttempts: 0`): when the socket
 * drops, caller audio is buffered (up to `maxBufferMs`) and replayed into the new socket, so a drop
 * loses no speech. KeepAlive is sent when no audio flowed for 4 s. `Finalize` is sent when the
 * local VAD reports the end of speech, which makes the final transcript arrive sooner.
 */
import { DeepgramClient } from '@deepgram/sdk';
import { ProviderError } from '../types.js';
import type { SttListener, SttProvider, SttStream } from '../stt-types.js';

/** Options of the Deepgram provider. */
export interface DeepgramSttOptions {
  apiKey: string;
  /** Base URL (`DEEPGRAM_URL`), e.g. https://api.deepgram.com or ws://127.0.0.1:PORT for a fake. */
  url?: string;
  model?: string;
  language?: string;
  endpointingMs?: number;
  utteranceEndMs?: number;
  maxReconnects?: number;
  /** Audio kept while reconnecting (8 bytes per ms of mu-law). */
  maxBufferMs?: number;
}

type Socket = Awaited<ReturnType<DeepgramClient['listen']['v1']['connect']>>;

interface DgResults {
  type: 'Results';
  is_final?: boolean;
  speech_final?: boolean;
  channel?: { alternatives?: { transcript?: string }[] };
}

function wsBase(url: string | undefined): string | undefined {
  if (!url) return undefined;
  return url.replace(/^http(s?):\/\//, 'ws$1://').replace(/\/+$/, '');
}

/** Creates the Deepgram STT provider. */
export function createDeepgramStt(opts: DeepgramSttOptions): SttProvider {
  const client = new DeepgramClient({
    apiKey: opts.apiKey,
    ...(opts.url ? { baseUrl: wsBase(opts.url) } : {}),
  });
  const maxReconnects = opts.maxReconnects ?? 5;
  const maxBufferBytes = (opts.maxBufferMs ?? 15_000) * 8;

  return {
    name: 'deepgram',
    open(listener: SttListener): SttStream {
      let socket: Socket | null = null;
      let open = false;
      let closed = false;
      let attempts = 0;
      let buffered: Uint8Array[] = [];
      let bufferedBytes = 0;
      let lastAudioAt = Date.now();
      const keepAlive = setInterval(() => {
        if (open && Date.now() - lastAudioAt > 4000) {
          try {
            socket?.sendKeepAlive({ type: 'KeepAlive' });
          } catch {
            /* socket closing; the close handler reconnects */
          }
        }
      }, 2000);
      keepAlive.unref();

      const buffer = (chunk: Uint8Array) => {
        buffered.push(chunk);
        bufferedBytes += chunk.byteLength;
        while (bufferedBytes > maxBufferBytes && buffered.length > 1)
          bufferedBytes -= buffered.shift()!.byteLength;
      };

      const onMessage = (msg: unknown) => {
        const m = msg as { type?: string };
        const at = performance.now();
        if (m.type === 'Results') {
          const r = msg as DgResults;
          const text = r.channel?.alternatives?.[0]?.transcript?.trim() ?? '';
          if (r.is_final)
            listener.onTranscript({ type: 'final', text, speechFinal: Boolean(r.speech_final), at });
          else if (text) listener.onTranscript({ type: 'partial', text, at });
        } else if (m.type === 'UtteranceEnd') {
          listener.onTranscript({ type: 'utterance_end', at });
        }
      };

      const connect = async (): Promise<void> => {
        try {
          const s = await client.listen.v1.connect({
            model: opts.model ?? 'nova-3',
            encoding: 'mulaw',
            sample_rate: 8000,
            channels: 1,
            interim_results: 'true',
            endpointing: opts.endpointingMs ?? 300,
            utterance_end_ms: opts.utteranceEndMs ?? 1000,
            vad_events: 'true',
            smart_format: 'true',
            punctuate: 'true',
            language: opts.language ?? 'en-US',
            reconnectAttempts: 0,
            connectionTimeoutInSeconds: 5,
          } as unknown as Parameters<DeepgramClient['listen']['v1']['connect']>[0]);
          socket = s;
          s.on('message', onMessage);
          s.on('error', () => {
            /* close follows; handled there */
          });
          s.on('close', () => {
            open = false;
            if (!closed) scheduleReconnect('socket closed');
          });
          s.connect();
          await s.waitForOpen();
          if (closed) {
            s.close();
            return;
          }
          open = true;
          attempts = 0;
          const pending = buffered;
          buffered = [];
          bufferedBytes = 0;
          for (const chunk of pending) s.sendMedia(chunk);
        } catch (err) {
          open = false;
          if (!closed) scheduleReconnect((err as Error).message);
        }
      };

      let reconnectTimer: NodeJS.Timeout | null = null;
      const scheduleReconnect = (why: string) => {
        if (closed || reconnectTimer) return;
        attempts += 1;
        if (attempts > maxReconnects) {
          closed = true;
          clearInterval(keepAlive);
          listener.onError(
            new ProviderError('stt', 'deepgram', `gave up after ${maxReconnects} reconnects: ${why}`, false),
          );
          return;
        }
        listener.onReconnect?.(attempts);
        const delay = Math.min(2000, 50 * 2 ** (attempts - 1));
        reconnectTimer = setTimeout(() => {
          reconnectTimer = null;
          void connect();
        }, delay);
      };

      void connect();

      return {
        sendAudio(chunk) {
          if (closed) return;
          lastAudioAt = Date.now();
          if (!open || !socket) return buffer(chunk);
          try {
            socket.sendMedia(chunk);
          } catch {
            buffer(chunk);
          }
        },
        finalize() {
          if (!open || !socket) return;
          try {
            socket.sendFinalize({ type: 'Finalize' });
          } catch {
            /* reconnecting */
          }
        },
        async close() {
          if (closed) return;
          closed = true;
          clearInterval(keepAlive);
          if (reconnectTimer) clearTimeout(reconnectTimer);
          const s = socket;
          if (s && open) {
            try {
              s.sendCloseStream({ type: 'CloseStream' });
            } catch {
              /* already closing */
            }
            await new Promise((r) => setTimeout(r, 50));
          }
          s?.close();
        },
      };
    },
  };
}
