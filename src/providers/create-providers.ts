/**
 * Picks each provider role from configuration (composition-root helper): a cloud vendor when its
 * key is set, the local provider otherwise. Base URLs come from config so users can point at
 * regional or self-hosted endpoints and tests at protocol fakes.
 */
import type { AppConfig } from '../config.js';
import { createCartesiaTts } from './cartesia/cartesia-tts.js';
import { createDeepgramStt } from './deepgram/deepgram-stt.js';
import { createLocalDialogue } from './local/local-dialogue.js';
import { createLocalTts } from './local/local-tts.js';
import { createOpenAIDialogue } from './openai/openai-dialogue.js';
import type { SttProvider } from './stt-types.js';
import type { TtsProvider } from './tts-types.js';
import type { DialogueProvider } from './types.js';
import type { Vad } from '../audio/vad.js';

/** Every provider a call may use. */
export interface Providers {
  dialogue: DialogueProvider;
  /** Answers a turn when `dialogue` fails (always the local dialogue). */
  fallbackDialogue: DialogueProvider;
  /** Live STT, or null when no key is set (DTMF and typed turns still work). */
  stt: SttProvider | null;
  tts: TtsProvider;
  /** Local voice: espeak-ng when installed, else timed silence. Fallback for `tts`. */
  localTts: TtsProvider;
  /** Builds the VAD of each audio call (Silero when VAD=silero loaded); absent = energy VAD. */
  makeVad?: (opts: { hangoverMs?: number }) => Vad;
  /** One line per role for the start-up log (no secrets). */
  describe(): string;
}

/** Builds the providers from config (see file header). */
export function createProviders(config: AppConfig, today: () => string): Providers {
  const local = createLocalDialogue({ today });
  const localTts = createLocalTts();
  const dialogue = config.OPENAI_API_KEY
    ? createOpenAIDialogue({
        apiKey: config.OPENAI_API_KEY,
        ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
        model: config.OPENAI_MODEL,
        today,
      })
    : local;
  const stt = config.DEEPGRAM_API_KEY
    ? createDeepgramStt({
        apiKey: config.DEEPGRAM_API_KEY,
        ...(config.DEEPGRAM_URL ? { url: config.DEEPGRAM_URL } : {}),
        endpointingMs: config.DEEPGRAM_ENDPOINTING_MS,
      })
    : null;
  const tts = config.CARTESIA_API_KEY
    ? createCartesiaTts({
        apiKey: config.CARTESIA_API_KEY,
        ...(config.CARTESIA_URL ? { url: config.CARTESIA_URL } : {}),
        voiceId: config.CARTESIA_VOICE_ID,
        model: config.CARTESIA_MODEL,
      })
    : localTts;
  const host = (url: string | undefined, def: string) => {
    try {
      return url ? new URL(url).host : def;
    } catch {
      return def;
    }
  };
  return {
    dialogue,
    fallbackDialogue: local,
    stt,
    tts,
    localTts,
    describe: () =>
      [
        `stt=${stt ? `deepgram (${host(config.DEEPGRAM_URL, 'api.deepgram.com')})` : 'local: none, DTMF and typed turns only (no DEEPGRAM_API_KEY)'}`,
        `llm=${config.OPENAI_API_KEY ? `openai ${config.OPENAI_MODEL} (${host(config.OPENAI_BASE_URL, 'api.openai.com')})` : 'local dialogue (no OPENAI_API_KEY)'}`,
        `tts=${config.CARTESIA_API_KEY ? `cartesia ${config.CARTESIA_MODEL} (${host(config.CARTESIA_URL, 'api.cartesia.ai')})` : `local ${localTts.name} (no CARTESIA_API_KEY)`}`,
      ].join(', '),
  };
}
