/**
 * Where call recordings live and how long: one WAV per conversation, `<dir>/<conversation id>.wav`
 * (`RECORDING_DIR`, default `DATA_DIR/recordings`). Opens a call's recorder, finds a recording
 * for the API and the post-call report, and deletes recordings older than the retention period
 * (`RECORDING_RETENTION_DAYS`: at start-up, then daily).
 *
 * Failure semantics: nothing here throws into a call. A recording that cannot be opened or
 * written is logged and the call goes on unrecorded from that point; the sweep logs and retries
 * at its next run.
 */
import { mkdirSync } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { SAMPLE_RATE_HZ } from '../audio/mulaw.js';
import { createCallRecorder, type CallRecorder } from './call-recorder.js';
import { createWavWriter } from './wav-writer.js';

/** pino-compatible logger subset. */
export interface RecordingLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** A recording's stereo layout: left = caller, right = bot; 16-bit PCM at 8 kHz. */
export const RECORDING_FORMAT = { sampleRateHz: SAMPLE_RATE_HZ, channels: 2 } as const;

/** Bytes per minute of a recording (8000 Hz × 2 channels × 2 bytes × 60 s). */
export const RECORDING_BYTES_PER_MINUTE = RECORDING_FORMAT.sampleRateHz * RECORDING_FORMAT.channels * 2 * 60;

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The recordings of this server (see file header). */
export interface Recordings {
  readonly dir: string;
  /** Starts recording a call; null when the id is not a conversation id (nothing is written). */
  open(conversationId: string): CallRecorder | null;
  /** The file of a conversation's recording, or null when there is none. */
  find(conversationId: string): Promise<string | null>;
  /** Deletes recordings older than the retention period; returns how many. Never rejects. */
  sweep(now?: number): Promise<number>;
  /** Sweeps now and then daily (no-op without a retention period). */
  startRetention(): void;
  /** Stops the daily sweep and closes the recordings still open (their last samples go to disk). Never rejects. */
  stop(): Promise<void>;
}

/** Options of {@link createRecordings}. */
export interface RecordingsOptions {
  dir: string;
  /** Days a recording is kept; undefined or 0: forever. */
  retentionDays?: number | undefined;
  logger: RecordingLogger;
}

/** Creates the recordings of this server (see file header). `dir` is created by the first recording. */
export function createRecordings(opts: RecordingsOptions): Recordings {
  const { dir, logger } = opts;
  let dirReady = false;
  const fileOf = (id: string) => path.join(dir, `${id.toLowerCase()}.wav`);
  let timer: NodeJS.Timeout | null = null;
  const live = new Set<CallRecorder>();

  const sweep = async (now = Date.now()): Promise<number> => {
    const days = opts.retentionDays ?? 0;
    if (days <= 0) return 0;
    const cutoff = now - days * DAY_MS;
    let deleted = 0;
    try {
      for (const name of await readdir(dir)) {
        if (!name.endsWith('.wav') || !ID.test(name.slice(0, -4))) continue;
        const file = path.join(dir, name);
        try {
          if ((await stat(file)).mtimeMs >= cutoff) continue;
          await unlink(file);
          deleted += 1;
        } catch (err) {
          logger.warn({ file: name, err: (err as Error).message }, 'recording retention: could not delete');
        }
      }
    } catch (err) {
      // No directory yet: nothing was ever recorded here.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        logger.warn({ err: (err as Error).message }, 'recording retention: could not list the directory');
    }
    if (deleted > 0)
      logger.info({ deleted, retentionDays: days }, 'recording retention: old recordings deleted');
    return deleted;
  };

  return {
    dir,
    open(conversationId) {
      if (!ID.test(conversationId)) return null;
      if (!dirReady) {
        try {
          mkdirSync(dir, { recursive: true });
          dirReady = true;
        } catch (err) {
          logger.warn(
            { err: (err as Error).message },
            'recording off for this call: no recordings directory',
          );
          return null;
        }
      }
      let reported = false;
      const writer = createWavWriter({
        path: fileOf(conversationId),
        ...RECORDING_FORMAT,
        onError: (err) => {
          if (reported) return;
          reported = true;
          logger.warn({ conversationId, err: err.message }, 'recording stopped: the file cannot be written');
        },
      });
      const recorder = createCallRecorder({ sink: writer });
      live.add(recorder);
      return {
        ...recorder,
        close: () => recorder.close().finally(() => live.delete(recorder)),
      };
    },
    async find(conversationId) {
      if (!ID.test(conversationId)) return null;
      const file = fileOf(conversationId);
      try {
        return (await stat(file)).isFile() ? file : null;
      } catch {
        return null;
      }
    },
    sweep,
    startRetention() {
      if (timer || !opts.retentionDays) return;
      void sweep();
      timer = setInterval(() => void sweep(), DAY_MS);
      timer.unref?.();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await Promise.all([...live].map((r) => r.close()));
    },
  };
}
