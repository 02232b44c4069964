/**
 * Reads a PCM-16 WAV file the way a player would: RIFF header, `fmt ` chunk, `data` chunk whose
 * size the header gives (bytes beyond it are ignored). Throws on a malformed file.
 */
export interface ParsedWav {
  format: number;
  channels: number;
  sampleRateHz: number;
  bitsPerSample: number;
  /** Samples per channel. */
  left: Int16Array;
  right: Int16Array;
  dataBytes: number;
}

/** Parses `buf` (see file header). */
export function parseWav(buf: Buffer): ParsedWav {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error('not a RIFF/WAVE file');
  const riffSize = buf.readUInt32LE(4);
  if (riffSize + 8 > buf.length) throw new Error(`RIFF size ${riffSize} beyond the file (${buf.length})`);
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = {
        format: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        rate: buf.readUInt32LE(body + 4),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw new Error('data before fmt');
      if (body + size > buf.length) throw new Error(`data size ${size} beyond the file`);
      const frames = size / (fmt.channels * 2);
      const left = new Int16Array(frames);
      const right = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        left[i] = buf.readInt16LE(body + i * fmt.channels * 2);
        if (fmt.channels > 1) right[i] = buf.readInt16LE(body + i * fmt.channels * 2 + 2);
      }
      return {
        format: fmt.format,
        channels: fmt.channels,
        sampleRateHz: fmt.rate,
        bitsPerSample: fmt.bits,
        left,
        right,
        dataBytes: size,
      };
    }
    off = body + size + (size % 2);
  }
  throw new Error('no data chunk');
}
