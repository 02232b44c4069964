import { applyDtmfDigit } from '../../machines/call.machine.js';

const typeIn = (digits: string, mode?: 'answer' | 'entry') => {
  let buffer = '';
  const complete: string[] = [];
  for (const d of digits) {
    const r = applyDtmfDigit(buffer, d, mode);
    buffer = r.buffer;
    if (r.complete) complete.push(r.complete);
  }
  return complete;
};

describe('keypad digits in the call machine', () => {
  it('treats a lone 1 or 2 as an answer while a yes/no is expected', () => {
    expect(typeIn('1')).toEqual(['1']);
    expect(typeIn('2')).toEqual(['2']);
  });

  it('lets a date or an amount start with 1 or 2 while a value is being collected', () => {
    expect(typeIn('12032026#', 'entry')).toEqual(['12032026']);
    expect(typeIn('1250*50#', 'entry')).toEqual(['1250*50']);
    expect(typeIn('2#', 'entry')).toEqual(['2']);
  });

  it('ignores a # with nothing typed and letters the keypad cannot send', () => {
    expect(typeIn('#', 'entry')).toEqual([]);
    expect(typeIn('3A4#', 'entry')).toEqual(['34']);
  });
});
