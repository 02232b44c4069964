import { parseDuration, parseLoadtestArgs, UsageError } from '../../src/loadtest/options.js';
import { latencyStats, percentile } from '../../src/loadtest/report.js';

describe('loadtest command line', () => {
  it('refuses to run without --url: there is no default host', () => {
    expect(() => parseLoadtestArgs(['--calls', '5'], {})).toThrow(/--url is required/);
    expect(() => parseLoadtestArgs([], {})).toThrow(UsageError);
  });

  it('refuses URLs that are not http(s) or carry credentials, and bad numbers', () => {
    expect(() => parseLoadtestArgs(['--url', 'ftp://x'], {})).toThrow(/http\(s\)/);
    expect(() => parseLoadtestArgs(['--url', 'https://u:p@host'], {})).toThrow(/credentials/);
    expect(() => parseLoadtestArgs(['--url', 'https://h', '--calls', '0'], {})).toThrow(/--calls/);
    expect(() => parseLoadtestArgs(['--url', 'https://h', '--calls', '1e3'], {})).toThrow(/--calls/);
    expect(() => parseLoadtestArgs(['--url', 'https://h', '--ramp', 'soon'], {})).toThrow(/--ramp/);
    expect(() => parseLoadtestArgs(['--url', 'https://h', '--bogus'], {})).toThrow(UsageError);
  });

  it('reads the documented example and takes the token from the environment', () => {
    const o = parseLoadtestArgs(
      ['--url', 'https://host/', '--calls', '50', '--ramp', '10s', '--duration', '2m', '--keypad'],
      { TWILIO_AUTH_TOKEN: 'tok' },
    );
    expect(o).toMatchObject({
      url: 'https://host',
      publicUrl: 'https://host',
      webhookPath: '/twilio/voice',
      calls: 50,
      rampMs: 10_000,
      durationMs: 120_000,
      keypad: true,
      authToken: 'tok',
    });
    expect(
      parseLoadtestArgs(['--url', 'http://h', '--auth-token', 'flag'], { TWILIO_AUTH_TOKEN: 'env' })
        .authToken,
    ).toBe('flag');
  });

  it('parses durations in ms, s, m, h and bare seconds', () => {
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(parseDuration('1.5s', 'x')).toBe(1500);
    expect(parseDuration('2m', 'x')).toBe(120_000);
    expect(parseDuration('1h', 'x')).toBe(3_600_000);
    expect(parseDuration('3', 'x')).toBe(3000);
  });
});

describe('loadtest percentiles', () => {
  it('uses the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 90)).toBe(90);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([], 50)).toBeNull();
    expect(latencyStats([30, 10, 20])).toEqual({ count: 3, p50: 20, p90: 30, p99: 30, max: 30 });
  });
});
