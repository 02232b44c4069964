/**
 * A streaming WAV file writer: 16-bit linear PCM, written in chunks as the audio happens, with the
 * RIFF and `data` sizes rewritten after every chunk, so the file on disk is a valid WAV at all
 * times. A process killed mid-call leaves a file that parses and plays up to the last flush
 * (`flushIntervalMs`, default 250 ms); the OS keeps data already written even on `kill -9`.
 *
 * 16-bit PCM (format 1) rather than mu-law (format 7): every browser's `<audio>` and every tool
 * plays it; it costs twice the bytes (see the README, Call recording).
 *
 * Lifecycle: `createWavWriter` opens (creates or truncates) the file at once; `write` queues
 * samples (interleaved when stereo) and never blocks or throws; a timer flushes them; `close()`
 * writes what is left and closes the file. A disk error stops the writer (reported once through
 * `onError`); the call goes on.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Bytes of the canonical 44-byte PCM header. */
export const WAV_HEADER_BYTES = 44;
/** Largest data chunk a RIFF size field can describe. */
const MAX_DATA_BYTES = 0xffff_ffff - WAV_HEADER_BYTES;

/** The format of a WAV file. */
export interface WavFormat {
  sampleRateHz: number;
  channels: number;
}

/** The canonical PCM-16 header for `dataBytes` of samples. */
export function wavHeader(format: WavFormat, dataBytes: number): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  const blockAlign = format.channels * 2;
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(WAV_HEADER_BYTES - 8 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16); // fmt chunk size
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(format.channels, 22);
  h.writeUInt32LE(format.sampleRateHz, 24);
  h.writeUInt32LE(format.sampleRateHz * blockAlign, 28); // byte rate
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Options of {@link createWavWriter}. */
export interface WavWriterOptions extends WavFormat {
  path: string;
  /** How often queued samples go to disk with their header (default 250 ms). */
  flushIntervalMs?: number;
  /** A disk error: the writer stops (called once). */
  onError?: (err: Error) => void;
}

/** A WAV file being written (see file header). */
export interface WavWriter {
  /** Queues samples (interleaved frames when stereo). Never throws; ignored after close or an error. */
  write(samples: Int16Array): void;
  /** Sample bytes written to disk so far (the `data` size in the header). */
  dataBytes(): number;
  /** Flushes what is queued, rewrites the header and closes the file. Never rejects; idempotent. */
  close(): Promise<void>;
}

/** Opens `path` for a streaming WAV (see file header). */
export function createWavWriter(opts: WavWriterOptions): WavWriter {
  const format: WavFormat = { sampleRateHz: opts.sampleRateHz, channels: opts.channels };
  const intervalMs = opts.flushIntervalMs ?? 250;
  let queued: Buffer[] = [];
  let queuedBytes = 0;
  let written = 0;
  let failed = false;
  let closing: Promise<void> | null = null;
  /** Every disk operation, in order. */
  let chain: Promise<FileHandle | null> = open(opts.path, 'w').then(
    async (fh) => {
      await fh.write(wavHeader(format, 0), 0, WAV_HEADER_BYTES, 0);
      return fh;
    },
    (err: Error) => fail(err),
  );

  function fail(err: Error): null {
    if (!failed) {
      failed = true;
      queued = [];
      opts.onError?.(err);
    }
    return null;
  }

  const flush = () => {
    if (failed || queuedBytes === 0) return;
    const room = MAX_DATA_BYTES - written - queuedBytes;
    const data = Buffer.concat(queued, queuedBytes + Math.min(0, room));
    queued = [];
    queuedBytes = 0;
    if (data.length === 0) return;
    chain = chain.then(async (fh) => {
      if (!fh || failed) return fh;
      try {
        await fh.write(data, 0, data.length, WAV_HEADER_BYTES + written);
        written += data.length;
        // The sizes follow the data, so the file is valid after every flush.
        await fh.write(wavHeader(format, written), 0, WAV_HEADER_BYTES, 0);
        return fh;
      } catch (err) {
        fail(err as Error);
        await fh.close().catch(() => {});
        return null;
      }
    });
  };

  const timer = setInterval(flush, intervalMs);
  timer.unref?.();

  return {
    write(samples) {
      if (failed || closing || samples.length === 0) return;
      // A copy: the caller may reuse its buffer.
      const b = Buffer.from(
        samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength),
      );
      queued.push(b);
      queuedBytes += b.length;
    },
    dataBytes: () => written,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        flush();
        const fh = await chain;
        await fh?.close().catch((err: Error) => fail(err));
      })();
      return closing;
    },
  };
}
