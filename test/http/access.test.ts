/**
 * The Origin rule of `/client/stream` on its own (the HTTP-level cases are in api.test.ts).
 */
import type { IncomingMessage } from 'node:http';
import { checkOrigin, type AccessConfig } from '../../src/http/access.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const allowed = (headers: Record<string, string>, cfg: AccessConfig = {}) =>
  checkOrigin(req(headers), cfg).ok;

describe('the /client/stream Origin rule', () => {
  it('allows clients that send no Origin (the terminal chat, Node)', () => {
    expect(allowed({ host: 'bot.example' }, { publicUrl: 'https://bot.example' })).toBe(true);
  });

  it('allows the same host as the request and PUBLIC_URL’s origin', () => {
    expect(allowed({ host: 'bot.example', origin: 'https://bot.example' })).toBe(true);
    expect(
      allowed(
        { host: '10.0.0.5:3000', origin: 'https://bot.example' },
        { publicUrl: 'https://bot.example/' },
      ),
    ).toBe(true);
  });

  it('allows loopback origins only while PUBLIC_URL is unset', () => {
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:5173', 'http://[::1]:5173'])
      expect(allowed({ host: 'localhost:3000', origin })).toBe(true);
    expect(
      allowed({ host: 'bot.example', origin: 'http://localhost:5173' }, { publicUrl: 'https://bot.example' }),
    ).toBe(false);
  });

  it('allows the origins listed in ALLOWED_ORIGINS and refuses every other one', () => {
    const cfg = { publicUrl: 'https://bot.example', allowedOrigins: ['https://dash.example/'] };
    expect(allowed({ host: 'bot.example', origin: 'https://dash.example' }, cfg)).toBe(true);
    expect(allowed({ host: 'bot.example', origin: 'https://evil.example' }, cfg)).toBe(false);
    expect(allowed({ host: 'bot.example', origin: 'http://dash.example' }, cfg)).toBe(false);
    expect(allowed({ host: 'bot.example', origin: 'null' }, cfg)).toBe(false);
  });
});
