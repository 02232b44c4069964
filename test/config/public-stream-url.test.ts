import { ConfigError, loadConfig } from '../../src/config.js';

describe('PUBLIC_STREAM_URL and LIVE_HEARTBEAT_S', () => {
  it('takes a wss:// (or local ws://) stream URL and refuses anything else, naming the variable', () => {
    expect(loadConfig({ PUBLIC_STREAM_URL: 'wss://a.example.com/twilio/stream' }).PUBLIC_STREAM_URL).toBe(
      'wss://a.example.com/twilio/stream',
    );
    expect(loadConfig({ PUBLIC_STREAM_URL: '' }).PUBLIC_STREAM_URL).toBeUndefined();
    for (const bad of ['https://a.example.com/twilio/stream', 'not a url']) {
      expect(() => loadConfig({ PUBLIC_STREAM_URL: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ PUBLIC_STREAM_URL: bad })).toThrow(/PUBLIC_STREAM_URL/);
    }
  });

  it('defaults the heartbeat to 5 s and bounds it', () => {
    expect(loadConfig({}).LIVE_HEARTBEAT_S).toBe(5);
    expect(loadConfig({ LIVE_HEARTBEAT_S: '1' }).LIVE_HEARTBEAT_S).toBe(1);
    expect(() => loadConfig({ LIVE_HEARTBEAT_S: '0' })).toThrow(/LIVE_HEARTBEAT_S/);
  });
});
