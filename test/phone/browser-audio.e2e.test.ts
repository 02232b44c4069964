/**
 * A browser audio call (`/client/stream?audio=1`): the same session code as the phone path (VAD,
 * Deepgram, TTS, playback marks) over binary mu-law frames. The "browser" here plays the bot's
 * audio in real time (echoing each mark once the audio before it has played), like the client.
 */
import { WebSocket } from 'ws';
import { AUDIO_FIXTURE_TEXT, loadAudioFixture } from '../fakes/fixtures.js';
import { startPhoneHarness, type PhoneHarness } from '../support/phone-harness.js';

type Frame = Record<string, unknown> & { event: string };

describe('a browser audio call', () => {
  let h: PhoneHarness;
  beforeAll(async () => {
    h = await startPhoneHarness({
      deepgram: { utterances: [AUDIO_FIXTURE_TEXT['okay-got-it'], AUDIO_FIXTURE_TEXT['march-third']] },
      cartesia: {},
      today: '2026-11-25',
    });
  });
  afterAll(async () => h?.close());

  it('hears the caller through the VAD and STT, speaks with marks, and fills the claim', async () => {
    const url = `${h.server.url.replace(/^http/, 'ws')}/client/stream?audio=1&token=test-dashboard-token`;
    const ws = new WebSocket(url);
    const events: Frame[] = [];
    let audioBytes = 0;
    let playedUntil = performance.now();
    const timers = new Set<NodeJS.Timeout>();
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const n = (data as Buffer).length;
        audioBytes += n;
        playedUntil = Math.max(playedUntil, performance.now()) + n / 8 / 4; // plays 4x real time
        return;
      }
      const m = JSON.parse(String(data)) as Frame;
      events.push(m);
      if (m.event === 'mark') {
        const t = setTimeout(
          () => {
            timers.delete(t);
            if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event: 'mark', name: m.name }));
          },
          Math.max(0, playedUntil - performance.now()),
        );
        timers.add(t);
      }
    });
    await new Promise((r) => ws.once('open', r));
    // The microphone: 20 ms frames, silence unless speaking, 4x real time.
    const mic: Buffer[] = [];
    const clock = setInterval(() => {
      const frame = mic.shift() ?? Buffer.alloc(160, 0xff);
      if (ws.readyState === ws.OPEN) ws.send(frame, { binary: true });
    }, 5);
    const speak = (audio: Buffer) => {
      for (let i = 0; i < audio.length; i += 160) {
        const f = Buffer.alloc(160, 0xff);
        audio.copy(f, 0, i, Math.min(i + 160, audio.length));
        mic.push(f);
      }
    };
    const until = async (pred: () => boolean, what: string, ms = 30_000) => {
      const end = performance.now() + ms;
      while (!pred()) {
        if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const idle = () => events.filter((e) => e.event === 'bot.turn.ended').length;
    try {
      await until(() => idle() >= 1, 'the greeting to be heard');
      speak(loadAudioFixture('okay-got-it'));
      await until(() => idle() >= 2, 'the answer to "okay got it"');
      speak(loadAudioFixture('march-third'));
      await until(
        () =>
          events.some(
            (e) =>
              e.event === 'claim.updated' && (e.claim as { claimDate?: string }).claimDate === '2026-03-03',
          ),
        'the date to be accepted',
      );
      expect(audioBytes).toBeGreaterThan(8000);
      expect(events.some((e) => e.event === 'mark')).toBe(true);
      expect(events.filter((e) => e.event === 'transcript.final').map((e) => e.text)).toEqual([
        AUDIO_FIXTURE_TEXT['okay-got-it'],
        AUDIO_FIXTURE_TEXT['march-third'],
      ]);
      expect(events.some((e) => e.event === 'bot.text')).toBe(true);
      const metrics = events.filter((e) => e.event === 'metrics.turn');
      expect(metrics.length).toBeGreaterThanOrEqual(2);
    } finally {
      clearInterval(clock);
      for (const t of timers) clearTimeout(t);
      ws.close();
    }
  }, 60_000);
});
