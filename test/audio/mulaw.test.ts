import alawmulaw from 'alawmulaw';
import {
  decodeMulaw,
  decodeMulawSample,
  encodeMulaw,
  encodeMulawSample,
  FRAME_BYTES_20MS,
  MULAW_DECODE,
  MULAW_ENCODE,
  MULAW_ENERGY,
  MULAW_SILENCE,
  mulawDurationMs,
  mulawSilence,
  SAMPLE_RATE_HZ,
} from '../../src/audio/mulaw.js';

const ref = alawmulaw.mulaw;

const allCodes = Uint8Array.from({ length: 256 }, (_, i) => i);
const allSamples = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

describe('mu-law codec', () => {
  it('decodes all 256 codes exactly as the alawmulaw reference', () => {
    const ours = decodeMulaw(allCodes);
    const theirs = ref.decode(allCodes);
    expect(Array.from(ours)).toEqual(Array.from(theirs));
    for (let c = 0; c < 256; c++) expect(decodeMulawSample(c)).toBe(ref.decodeSample(c) | 0);
  });

  it('encodes every 16-bit sample from -32768 to 32767 exactly as the alawmulaw reference', () => {
    const ours = encodeMulaw(allSamples);
    const theirs = ref.encode(allSamples);
    let mismatches = 0;
    for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) mismatches++;
    expect(mismatches).toBe(0);
    // The scalar form agrees too (the reference returns a negative int: its low 8 bits are the code).
    for (let x = -32768; x < 32768; x += 7) expect(encodeMulawSample(x)).toBe(ref.encodeSample(x) & 0xff);
  });

  it('re-encodes every decoded value to its own code, except negative zero (0x7F) which becomes 0xFF', () => {
    for (let c = 0; c < 256; c++) {
      const back = encodeMulawSample(MULAW_DECODE[c]!);
      expect(back).toBe(c === 0x7f ? 0xff : c);
    }
  });

  it('keeps the round-trip error within the G.711 segment step and clips at +-32124', () => {
    const decoded = decodeMulaw(encodeMulaw(allSamples));
    const violations: number[] = [];
    for (let i = 0; i < allSamples.length; i++) {
      const x = allSamples[i]!;
      const y = decoded[i]!;
      // Half a quantisation step: 8 in the finest segment, 1/16 of the magnitude at worst above it.
      const ok =
        Math.abs(x) <= 32124 ? Math.abs(y - x) <= Math.max(8, Math.abs(x) / 16) : Math.abs(y) === 32124;
      const sameSign = y === 0 || Math.sign(y) === Math.sign(x);
      if (!ok || !sameSign) violations.push(x);
    }
    expect(violations).toEqual([]);
  });

  it('treats 0xFF as silence and exposes the phone-frame constants', () => {
    expect(MULAW_SILENCE).toBe(0xff);
    expect(decodeMulawSample(MULAW_SILENCE)).toBe(0);
    expect(encodeMulawSample(0)).toBe(MULAW_SILENCE);
    expect(SAMPLE_RATE_HZ).toBe(8000);
    expect(FRAME_BYTES_20MS).toBe(160);
    expect(mulawDurationMs(FRAME_BYTES_20MS)).toBe(20);
    expect(Array.from(new Set(mulawSilence(20)))).toEqual([0xff]);
    expect(mulawSilence(20).length).toBe(160);
  });

  it('has an energy table equal to the squared normalised decode table', () => {
    for (let c = 0; c < 256; c++) expect(MULAW_ENERGY[c]).toBeCloseTo((MULAW_DECODE[c]! / 32768) ** 2, 15);
    expect(MULAW_ENCODE.length).toBe(65536);
  });

  it('writes into a caller-supplied output array without allocating a new one', () => {
    const out = new Int16Array(160);
    const frame = new Uint8Array(160).fill(0x80);
    expect(decodeMulaw(frame, out)).toBe(out);
    expect(out[0]).toBe(32124);
    const bigger = new Int16Array(400);
    const view = decodeMulaw(frame, bigger);
    expect(view.length).toBe(160);
    expect(view.buffer).toBe(bigger.buffer);
    const outBytes = new Uint8Array(3);
    expect(encodeMulaw(Int16Array.of(0, 32767, -32768), outBytes)).toBe(outBytes);
    expect(Array.from(outBytes)).toEqual([0xff, 0x80, 0x00]);
  });

  it('never throws on empty, odd-length, too-short-output or missing input', () => {
    expect(decodeMulaw(new Uint8Array(0)).length).toBe(0);
    expect(encodeMulaw(new Int16Array(0)).length).toBe(0);
    expect(decodeMulaw(new Uint8Array(161)).length).toBe(161);
    expect(decodeMulaw(Uint8Array.of(0xff), new Int16Array(0))).toEqual(Int16Array.of(0));
    expect(encodeMulaw(Int16Array.of(1, 2, 3), new Uint8Array(1)).length).toBe(3);
    expect(decodeMulaw(undefined as unknown as Uint8Array).length).toBe(0);
    expect(encodeMulaw(null as unknown as Int16Array).length).toBe(0);
    expect(mulawSilence(Number.NaN).length).toBe(0);
    expect(mulawDurationMs(-5)).toBe(0);
    expect(encodeMulawSample(Number.NaN)).toBe(0xff);
    expect(encodeMulawSample(1e9)).toBe(encodeMulawSample(32767));
  });

  it('decodes a Node Buffer (Twilio payloads arrive as Buffers) like a Uint8Array', () => {
    const bytes = Buffer.from([0x00, 0x7f, 0x80, 0xff, 0x35]);
    expect(Array.from(decodeMulaw(bytes))).toEqual(Array.from(ref.decode(Uint8Array.from(bytes))));
  });
});
