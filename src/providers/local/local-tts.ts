/**
 * Local speech: no key, no network. `espeak-ng` when it is installed (a real, if robotic, voice),
 * otherwise silence of the length the text would take to say (so playback marks, heard text and
 * timing behave exactly as with a real voice; the text still reaches text observers).
 *
 * espeak-ng writes a 16-bit mono WAV (22 050 Hz) to stdout; it is resampled to 8 kHz and mu-law
 * encoded here, then delivered in 20 ms multiples like a cloud TTS would. One process per sentence,
 * sentences of a turn run in order. Used as the zero-config default and as the fallback when the
 * cloud TTS fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createLinearResampler } from '../../audio/resample.js';
import { encodeMulaw, MULAW_SILENCE } from '../../audio/mulaw.js';
import { ProviderError } from '../types.js';
import type { TtsConnection, TtsProvider, TtsTurn, TtsTurnHandlers } from '../tts-types.js';

/** Options of {@link createLocalTts}. */
export interface LocalTtsOptions {
  /** Path of the espeak-ng binary, or null for silence only. Default: found on PATH. */
  espeakPath?: string | null;
  /** espeak-ng voice. Default `en-us`. */
  voice?: string;
  /** Words per minute. Default 170. */
  wordsPerMinute?: number;
  /** Characters per second assumed by the silent voice. Default 15. */
  charsPerSecond?: number;
}

const CHUNK_BYTES = 160 * 10; // 200 ms per chunk

let espeakOnPath: string | null | undefined;

/** The espeak-ng binary on PATH, or null (looked up once). */
export function findEspeak(): string | null {
  if (espeakOnPath === undefined) {
    const r = spawnSync('espeak-ng', ['--version'], { stdio: 'ignore' });
    espeakOnPath = r.status === 0 ? 'espeak-ng' : null;
  }
  return espeakOnPath;
}

/** Splits mu-law audio into chunks of at most CHUNK_BYTES. */
function* chunksOf(audio: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < audio.length; i += CHUNK_BYTES) yield audio.subarray(i, i + CHUNK_BYTES);
}

/** Parses a streamed WAV from espeak-ng into 8 kHz mu-law, chunk by chunk. */
function createWavToMulaw(onAudio: (mulaw: Uint8Array) => void) {
  let header: Buffer | null = Buffer.alloc(0);
  let resampler: ReturnType<typeof createLinearResampler> | null = null;
  let carry: Buffer = Buffer.alloc(0);
  return (data: Buffer) => {
    if (header) {
      header = Buffer.concat([header, data]);
      if (header.length < 44) return;
      const rate = header.readUInt32LE(24);
      resampler = createLinearResampler({ fromHz: rate || 22050, toHz: 8000 });
      data = header.subarray(44);
      header = null;
    }
    const bytes = carry.length ? Buffer.concat([carry, data]) : data;
    const even = bytes.length - (bytes.length % 2);
    carry = Buffer.from(bytes.subarray(even));
    if (even === 0) return;
    const pcm = new Int16Array(even / 2);
    for (let i = 0; i < pcm.length; i++) pcm[i] = bytes.readInt16LE(i * 2);
    const out = encodeMulaw(resampler!.push(pcm));
    if (out.length) onAudio(out);
  };
}

/** Creates the local TTS provider (see file header). */
export function createLocalTts(opts: LocalTtsOptions = {}): TtsProvider {
  const espeak = opts.espeakPath === undefined ? findEspeak() : opts.espeakPath;
  const wpm = opts.wordsPerMinute ?? 170;
  const msPerChar = 1000 / (opts.charsPerSecond ?? 15);

  return {
    name: espeak ? 'espeak-ng' : 'silence',
    audible: espeak !== null,
    connect(): TtsConnection {
      const children = new Set<ChildProcess>();
      let closed = false;

      const synthesize = (text: string, onAudio: (a: Uint8Array) => void): Promise<void> => {
        if (!espeak) {
          const bytes = Math.max(160, Math.round((text.length * msPerChar * 8) / 160) * 160);
          for (const c of chunksOf(new Uint8Array(bytes).fill(MULAW_SILENCE))) onAudio(c);
          return Promise.resolve();
        }
        return new Promise<void>((resolve, reject) => {
          const child = spawn(espeak, ['--stdout', '-v', opts.voice ?? 'en-us', '-s', String(wpm), text], {
            stdio: ['ignore', 'pipe', 'ignore'],
          });
          children.add(child);
          let pending = Buffer.alloc(0);
          const feed = createWavToMulaw((m) => {
            pending = Buffer.concat([pending, m]);
            while (pending.length >= CHUNK_BYTES) {
              onAudio(pending.subarray(0, CHUNK_BYTES));
              pending = pending.subarray(CHUNK_BYTES);
            }
          });
          child.stdout!.on('data', (d: Buffer) => feed(d));
          child.once('error', (err) => {
            children.delete(child);
            reject(err);
          });
          child.once('close', (code) => {
            children.delete(child);
            if (pending.length) onAudio(pending);
            if (code === 0 || code === null) resolve();
            else reject(new Error(`espeak-ng exited with ${code}`));
          });
        });
      };

      return {
        startTurn(_turnId: string, h: TtsTurnHandlers): TtsTurn {
          let cancelled = false;
          let ended = false;
          let chain: Promise<void> = Promise.resolve();
          const run = (fn: () => Promise<void>) => {
            chain = chain.then(() => (cancelled || closed ? undefined : fn()));
            chain.catch((err: unknown) => {
              if (cancelled) return;
              cancelled = true;
              h.onError(new ProviderError('tts', 'local', (err as Error).message, false));
            });
          };
          return {
            push(text) {
              const t = text.trim();
              if (!t || ended || cancelled) return;
              run(() =>
                synthesize(t, (a) => {
                  if (!cancelled) h.onAudio(a);
                }),
              );
            },
            end() {
              if (ended) return;
              ended = true;
              run(async () => {
                if (!cancelled) h.onDone();
              });
            },
            cancel() {
              cancelled = true;
            },
          };
        },
        close() {
          closed = true;
          for (const c of children) c.kill('SIGKILL');
          children.clear();
        },
      };
    },
  };
}
