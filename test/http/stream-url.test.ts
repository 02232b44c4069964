/**
 * The `<Stream url>` the webhook advertises without PUBLIC_URL (behind ngrok or a load balancer
 * that terminates TLS and forwards plain http), from the request's headers and TCP peer.
 */
import { advertisedStreamUrl, type TrustProxy } from '../../src/transports/twilio/stream-url.js';

const url = (
  headers: Record<string, string>,
  opts: { peer?: string; trustProxy?: TrustProxy; publicUrl?: string } = {},
) =>
  advertisedStreamUrl(
    { headers, remoteAddress: opts.peer ?? '203.0.113.7' },
    { trustProxy: opts.trustProxy ?? 'loopback', fallbackHost: 'localhost:3000', publicUrl: opts.publicUrl },
  );

describe('the advertised media stream URL', () => {
  it('is PUBLIC_URL as wss whatever the request says', () => {
    expect(
      url(
        { host: 'evil.example', 'x-forwarded-host': 'evil.example' },
        { peer: '127.0.0.1', publicUrl: 'https://bot.example.com/' },
      ),
    ).toBe('wss://bot.example.com/twilio/stream');
  });

  it('uses wss for any non-loopback Host, since a TLS-terminating tunnel forwards plain http', () => {
    expect(url({ host: 'abc123.ngrok.app' })).toBe('wss://abc123.ngrok.app/twilio/stream');
    expect(url({ host: '10.0.0.5:3000' })).toBe('wss://10.0.0.5:3000/twilio/stream');
  });

  it('keeps ws for a loopback Host (local simulated callers)', () => {
    for (const host of ['localhost:3000', '127.0.0.1:4000', '[::1]:3000', 'app.localhost'])
      expect(url({ host }, { peer: '127.0.0.1' })).toBe(`ws://${host}/twilio/stream`);
  });

  it('honours X-Forwarded-Proto and X-Forwarded-Host from a loopback peer (a local tunnel agent)', () => {
    const headers = {
      host: 'localhost:3000',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'abc123.ngrok.app, internal:8080',
    };
    expect(url(headers, { peer: '::ffff:127.0.0.1' })).toBe('wss://abc123.ngrok.app/twilio/stream');
    expect(url({ host: 'lb.example', 'x-forwarded-proto': 'http' }, { peer: '::1' })).toBe(
      'ws://lb.example/twilio/stream',
    );
  });

  it('ignores forwarded headers from an untrusted peer', () => {
    const headers = { host: 'bot.example', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'evil.example' };
    expect(url(headers, { peer: '203.0.113.7' })).toBe('wss://bot.example/twilio/stream');
    expect(url(headers, { peer: '127.0.0.1', trustProxy: 'none' })).toBe('wss://bot.example/twilio/stream');
    expect(url(headers, { peer: '203.0.113.7', trustProxy: 'all' })).toBe('ws://evil.example/twilio/stream');
  });

  it('never puts a Host that is not a plain host[:port] into the TwiML', () => {
    for (const host of ['evil.example/path?x=1', 'a b', '"><Say>hi</Say>', ''])
      expect(url({ host })).toBe('ws://localhost:3000/twilio/stream');
  });
});
