import { applyDtmfDigit } from '../../machines/call/call.machine.js';
import { parseDtmfAmount, parseDtmfDate } from '../../machines/claim/keypad-entry.js';

const MAX_DTMF_ENTRY_LENGTH = 16;

function press(keys: string, mode?: 'answer' | 'entry'): { buffer: string; completed: string[] } {
  let buffer = '';
  const completed: string[] = [];
  for (const k of keys) {
    const step = applyDtmfDigit(buffer, k, mode);
    buffer = step.buffer;
    if (step.complete !== null) completed.push(step.complete);
  }
  return { buffer, completed };
}

describe('parseDtmfDate', () => {
  it('reads MMDDYYYY as an ISO date', () => {
    expect(parseDtmfDate('03032026')).toBe('2026-03-03');
    expect(parseDtmfDate('12312025')).toBe('2025-12-31');
  });

  it('accepts February 29th only in a leap year', () => {
    expect(parseDtmfDate('02292024')).toBe('2024-02-29');
    expect(parseDtmfDate('02292026')).toBeNull();
  });

  it('rejects dates that do not exist', () => {
    for (const e of ['02302026', '13012026', '00102026', '01002026', '04312026'])
      expect(parseDtmfDate(e)).toBeNull();
  });

  it('rejects wrong lengths, stars and empty entries', () => {
    for (const e of ['', '030326', '0303202', '030320261', '03*32026', '0303202#'])
      expect(parseDtmfDate(e)).toBeNull();
  });
});

describe('parseDtmfAmount', () => {
  it('reads digits with star as the decimal point', () => {
    expect(parseDtmfAmount('1250*50')).toBe(1250.5);
    expect(parseDtmfAmount('1250*5')).toBe(1250.5);
    expect(parseDtmfAmount('900')).toBe(900);
    expect(parseDtmfAmount('*50')).toBe(0.5);
    expect(parseDtmfAmount('1250*')).toBe(1250);
    expect(parseDtmfAmount('00900')).toBe(900);
  });

  it('returns 0 for zero, leaving the rejection to the claim machine', () => {
    expect(parseDtmfAmount('0')).toBe(0);
  });

  it('rejects more than two decimals, two stars, other keys and empty entries', () => {
    for (const e of ['1250*505', '12*50*1', '', '*', '12#', '1a', '1234567890'])
      expect(parseDtmfAmount(e)).toBeNull();
  });
});

describe('applyDtmfDigit (keypad buffer)', () => {
  it('completes an entry on pound and clears the buffer', () => {
    expect(press('03032026#')).toEqual({ buffer: '', completed: ['03032026'] });
  });

  it('answers 1 or 2 at once on an empty buffer', () => {
    expect(applyDtmfDigit('', '1')).toEqual({ buffer: '', complete: '1' });
    expect(applyDtmfDigit('', '2')).toEqual({ buffer: '', complete: '2' });
    expect(press('12')).toEqual({ buffer: '', completed: ['1', '2'] });
  });

  it('keeps 1 and 2 as ordinary digits once an entry has started', () => {
    expect(press('3125#')).toEqual({ buffer: '', completed: ['3125'] });
  });

  it('lets entries start with 1 or 2 while a value is being collected', () => {
    expect(press('1250*50#', 'entry')).toEqual({ buffer: '', completed: ['1250*50'] });
    expect(press('12252025#', 'entry')).toEqual({ buffer: '', completed: ['12252025'] });
  });

  it('ignores pound on an empty buffer and keys that are not on a phone keypad', () => {
    expect(applyDtmfDigit('', '#')).toEqual({ buffer: '', complete: null });
    for (const k of ['A', 'D', '', '12', 'x', ' '])
      expect(applyDtmfDigit('34', k)).toEqual({ buffer: '34', complete: null });
  });

  it('keeps star in the buffer so amounts can carry cents', () => {
    expect(press('*5', 'entry')).toEqual({ buffer: '*5', completed: [] });
  });

  it('drops keys beyond the maximum entry length', () => {
    const { buffer } = press('3'.repeat(MAX_DTMF_ENTRY_LENGTH + 10));
    expect(buffer).toHaveLength(MAX_DTMF_ENTRY_LENGTH);
  });
});
