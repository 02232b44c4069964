/**
 * What each simulated caller of the load tester says: the claim flow's plain answers, spoken from
 * recorded mu-law audio (8 kHz, mono, raw; the repository's test/fixtures/audio, or `--audio DIR`
 * with files of the same names) or typed on the keypad (`--keypad`). Audio is trimmed of trailing
 * silence, so "caller speech end" is the end of the voiced audio.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FRAME_BYTES_20MS, MULAW_DECODE } from '../audio/mulaw.js';

/** The caller turns, in call order (the greeting comes first and is timed separately). */
export const CALLER_TURNS = ['acknowledgement', 'date', 'amount', 'confirmation'] as const;
export type CallerTurn = (typeof CALLER_TURNS)[number];

/** Audio file stem and keypad keys of each turn. */
export const TURN_INPUT: Readonly<Record<CallerTurn, { file: string; keys: string; text: string }>> = {
  acknowledgement: { file: 'okay-got-it', keys: '1', text: 'Okay, got it.' },
  date: { file: 'march-third', keys: '03032026#', text: 'March third.' },
  amount: { file: 'twelve-hundred-fifty-dollars', keys: '1250*50#', text: 'Twelve hundred fifty dollars.' },
  confirmation: { file: 'yes-thats-correct', keys: '1', text: "Yes, that's correct." },
};

/** What a caller sends for one turn. */
export type TurnInput = { kind: 'audio'; audio: Buffer } | { kind: 'keys'; keys: string };

/** RMS of one frame at or under this is silence (the fixtures' trailing silence). */
const SILENCE_RMS = 400;

function rms(frame: Uint8Array): number {
  let sum = 0;
  for (const b of frame) {
    const v = MULAW_DECODE[b] ?? 0;
    sum += v * v;
  }
  return frame.length ? Math.sqrt(sum / frame.length) : 0;
}

/** The audio without its trailing silent frames (at least one frame kept). */
export function trimTrailingSilence(audio: Buffer): Buffer {
  let end = audio.length;
  while (end > 0 && rms(audio.subarray(Math.max(0, end - FRAME_BYTES_20MS), end)) <= SILENCE_RMS)
    end -= FRAME_BYTES_20MS;
  return audio.subarray(0, Math.max(Math.min(FRAME_BYTES_20MS, audio.length), end));
}

/** The repository's recorded utterances (test/fixtures/audio), found above this file; null if absent. */
export function defaultAudioDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'test', 'fixtures', 'audio');
    if (existsSync(join(candidate, `${TURN_INPUT.acknowledgement.file}.ulaw`))) return candidate;
    dir = dirname(dir);
  }
  return null;
}

/**
 * The input of every turn: keypad keys, or the `<file>.ulaw` recordings of `audioDir`.
 * @throws naming the missing file when a recording is absent or empty.
 */
export function loadCallerScript(opts: {
  keypad: boolean;
  audioDir?: string | null;
}): Record<CallerTurn, TurnInput> {
  const out = {} as Record<CallerTurn, TurnInput>;
  for (const turn of CALLER_TURNS) {
    const input = TURN_INPUT[turn];
    if (opts.keypad) {
      out[turn] = { kind: 'keys', keys: input.keys };
      continue;
    }
    if (!opts.audioDir)
      throw new Error('no recorded audio: pass --audio DIR (mu-law 8 kHz .ulaw files) or --keypad');
    const file = join(opts.audioDir, `${input.file}.ulaw`);
    if (!existsSync(file))
      throw new Error(`missing recording ${file} ("${input.text}", mu-law 8 kHz mono raw)`);
    const audio = readFileSync(file);
    if (audio.length === 0) throw new Error(`empty recording ${file}`);
    out[turn] = { kind: 'audio', audio: trimTrailingSilence(audio) };
  }
  return out;
}
