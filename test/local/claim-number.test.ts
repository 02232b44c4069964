import {
  claimNumberForSpeech,
  dammCheckDigit,
  generateClaimNumber,
  isValidClaimNumber,
  normalizeClaimNumber,
} from '../../machines/claim/claim-number.js';

/** A seeded, deterministic randomInt (mulberry32), so generation tests are reproducible. */
function seededRandomInt(seed: number): (max: number) => number {
  let a = seed >>> 0;
  return (max) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(r * max);
  };
}

/** randomInt that replays the given draws in order. */
function scripted(draws: number[]): (max: number) => number {
  let i = 0;
  return () => draws[i++] ?? 0;
}

describe('dammCheckDigit', () => {
  it('matches the published Damm examples (572 → 4)', () => {
    expect(dammCheckDigit('572')).toBe(4);
    expect(dammCheckDigit('5724')).toBe(0);
  });

  it('gives 0 for the empty string and throws on a non-digit', () => {
    expect(dammCheckDigit('')).toBe(0);
    expect(() => dammCheckDigit('12a4')).toThrow(TypeError);
  });

  it('catches every single-digit error in a claim number', () => {
    const id = generateClaimNumber(seededRandomInt(7)).replace(/\D/g, '');
    for (let pos = 0; pos < 8; pos++) {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === id[pos]) continue;
        const wrong = id.slice(0, pos) + String(d) + id.slice(pos + 1);
        expect(dammCheckDigit(wrong)).not.toBe(0);
      }
    }
  });

  it('catches every adjacent transposition of two different digits', () => {
    const rnd = seededRandomInt(42);
    for (let n = 0; n < 200; n++) {
      const id = generateClaimNumber(rnd).replace(/\D/g, '');
      for (let pos = 0; pos < 7; pos++) {
        if (id[pos] === id[pos + 1]) continue;
        const swapped = id.slice(0, pos) + (id[pos + 1] ?? '') + (id[pos] ?? '') + id.slice(pos + 2);
        expect(dammCheckDigit(swapped)).not.toBe(0);
      }
    }
  });
});

describe('generateClaimNumber', () => {
  it('formats CLM-DDDD-DDDD with a valid check digit and no leading zero', () => {
    const rnd = seededRandomInt(1);
    for (let n = 0; n < 500; n++) {
      const id = generateClaimNumber(rnd);
      expect(id).toMatch(/^CLM-[1-9]\d{3}-\d{4}$/);
      expect(isValidClaimNumber(id)).toBe(true);
    }
  });

  it('is fully determined by the injected randomInt', () => {
    // first digit = 1 + draw(9); 4821093 → check digit 4
    expect(generateClaimNumber(scripted([3, 8, 2, 1, 0, 9, 3]))).toBe('CLM-4821-0934');
    expect(generateClaimNumber(seededRandomInt(99))).toBe(generateClaimNumber(seededRandomInt(99)));
  });

  it('asks for the first digit in [0, 9) and the others in [0, 10)', () => {
    const maxes: number[] = [];
    generateClaimNumber((max) => (maxes.push(max), 0));
    expect(maxes).toEqual([9, 10, 10, 10, 10, 10, 10]);
  });

  it('throws a RangeError when randomInt returns something out of range', () => {
    expect(() => generateClaimNumber(() => 10)).toThrow(RangeError);
    expect(() => generateClaimNumber(() => -1)).toThrow(RangeError);
    expect(() => generateClaimNumber(() => 0.5)).toThrow(RangeError);
    expect(() => generateClaimNumber(() => Number.NaN)).toThrow(RangeError);
  });
});

describe('isValidClaimNumber and normalizeClaimNumber', () => {
  it('accepts the canonical form', () => {
    expect(isValidClaimNumber('CLM-4821-0934')).toBe(true);
    expect(normalizeClaimNumber('CLM-4821-0934')).toBe('CLM-4821-0934');
  });

  it('accepts any case, spaces, dots or no separators, and no prefix', () => {
    for (const s of [
      'clm-4821-0934',
      'Clm 4821 0934',
      'CLM48210934',
      '  clm-48210934 ',
      '4821-0934',
      '48210934',
      'CLM 4821.0934',
    ]) {
      expect(normalizeClaimNumber(s)).toBe('CLM-4821-0934');
    }
  });

  it('rejects a wrong check digit, a transposition and a single-digit typo', () => {
    expect(isValidClaimNumber('CLM-4821-0937')).toBe(false);
    expect(isValidClaimNumber('CLM-4812-0934')).toBe(false);
    expect(isValidClaimNumber('CLM-4821-1934')).toBe(false);
  });

  it('rejects a leading zero even with a right check digit: such a number is never issued', () => {
    const body = '0821093';
    const id = `CLM-${body.slice(0, 4)}-${body.slice(4)}${dammCheckDigit(body)}`;
    expect(isValidClaimNumber(id)).toBe(false);
  });

  it('rejects garbage, wrong lengths, other prefixes and very long input', () => {
    for (const s of [
      '',
      'CLM',
      'CLM-4821-093',
      'CLM-4821-09344',
      'ABC-4821-0934',
      'CLM-48a1-0934',
      'x'.repeat(10_000),
    ]) {
      expect(isValidClaimNumber(s)).toBe(false);
      expect(normalizeClaimNumber(s)).toBeNull();
    }
  });
});

describe('claimNumberForSpeech', () => {
  it('spells the prefix and reads the digits one by one in two groups', () => {
    expect(claimNumberForSpeech('CLM-4821-0937')).toBe('C. L. M. 4 8 2 1, 0 9 3 7');
  });

  it('reads any written form the same way, whether or not the check digit is right', () => {
    expect(claimNumberForSpeech('clm 4821 0934')).toBe('C. L. M. 4 8 2 1, 0 9 3 4');
    expect(claimNumberForSpeech('CLM-1000-0006')).toBe('C. L. M. 1 0 0 0, 0 0 0 6');
  });

  it('spells anything else character by character instead of throwing', () => {
    expect(claimNumberForSpeech('AB-12')).toBe('A. B. 1 2');
    expect(claimNumberForSpeech('')).toBe('');
  });
});
