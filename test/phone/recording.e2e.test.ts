/**
 * Call recording end to end (RECORDING=on): a simulated Twilio caller, the Deepgram and Cartesia
 * fakes, the real server. The greeting says the call is recorded; the stereo WAV holds the caller
 * on the left and the bot on the right, on one clock; the API serves it behind the dashboard token,
 * with Range requests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WebSocket } from 'ws';
import { AUDIO_FIXTURE_TEXT } from '../fakes/fixtures.js';
import { answeredCall } from '../support/answered-call.js';
import { startPhoneHarness, waitForBotToFinish } from '../support/phone-harness.js';
import { parseWav } from '../support/wav.js';

const SPEEDUP = 8;

/** Sample-index ranges of a channel where it is loud (20 ms windows), merged. */
function loudWindows(samples: Int16Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i + 160 <= samples.length; i += 160) {
    let peak = 0;
    for (let j = i; j < i + 160; j++) peak = Math.max(peak, Math.abs(samples[j]!));
    if (peak < 500) continue;
    const last = out.at(-1);
    if (last && last[1] === i) last[1] = i + 160;
    else out.push([i, i + 160]);
  }
  return out;
}

describe('call recording', () => {
  it('announces the recording and writes caller left, bot right, served as audio/wav behind the token', async () => {
    const h = await startPhoneHarness({
      deepgram: { utterances: [AUDIO_FIXTURE_TEXT['okay-got-it']] },
      cartesia: {},
      env: { RECORDING: 'on' },
    });
    try {
      const { detail: d } = await answeredCall(h, SPEEDUP);
      const greeting = d.messages.find((m) => m.role === 'assistant')!;
      expect(greeting.text).toContain('This call is recorded.');

      const api = `${h.server.url}/api/conversations/${d.conversation.id}/recording`;
      const auth = { authorization: `Bearer ${h.config.DASHBOARD_TOKEN}` };
      const shown = await fetch(`${h.server.url}/api/conversations/${d.conversation.id}`, { headers: auth });
      expect(((await shown.json()) as { recording: unknown }).recording).toEqual({
        url: `/api/conversations/${d.conversation.id}/recording`,
      });
      expect((await fetch(api)).status).toBe(401);
      const whole = await fetch(api, { headers: auth });
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-type')).toBe('audio/wav');
      const partial = await fetch(api, { headers: { ...auth, range: 'bytes=0-43' } });
      expect(partial.status).toBe(206);
      expect(Buffer.from(await partial.arrayBuffer()).toString('ascii', 0, 4)).toBe('RIFF');
      const missing = `${h.server.url}/api/conversations/00000000-0000-4000-8000-000000000000/recording`;
      expect((await fetch(missing, { headers: auth })).status).toBe(404);

      // Closing the server closes the recording: its last samples reach the disk.
      await h.server.stop();
      const file = path.join(h.dataDir, 'recordings', `${d.conversation.id}.wav`);
      const wav = parseWav(fs.readFileSync(file));
      expect(wav).toMatchObject({ format: 1, channels: 2, sampleRateHz: 8000, bitsPerSample: 16 });
      const caller = loudWindows(wav.left);
      const bot = loudWindows(wav.right);
      expect(caller.length).toBeGreaterThan(0);
      expect(bot.length).toBeGreaterThan(0);
      // The greeting is heard before the caller answers it; the bot's answer comes after.
      expect(bot[0]![0]).toBeLessThan(caller[0]![0]);
      expect(bot.at(-1)![1]).toBeGreaterThan(caller.at(-1)![0]);
    } finally {
      await h.close();
    }
  }, 60_000);

  it('records a browser audio call the same way (mu-law 8 kHz both ways on the socket)', async () => {
    const h = await startPhoneHarness({
      deepgram: { utterances: [] },
      cartesia: {},
      env: { RECORDING: 'on' },
    });
    try {
      const ws = new WebSocket(
        `${h.server.url.replace(/^http/, 'ws')}/client/stream?audio=1&token=${h.config.DASHBOARD_TOKEN}`,
      );
      const frames: Array<{ event: string; [k: string]: unknown }> = [];
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const m = JSON.parse(String(data)) as { event: string; name?: string };
        frames.push(m);
        // Echo marks at once: this browser plays instantly.
        if (m.event === 'mark') ws.send(JSON.stringify({ event: 'mark', name: m.name }));
      });
      await new Promise((r) => ws.once('open', r));
      const mic = setInterval(() => ws.send(Buffer.alloc(160, 0x80), { binary: true }), 5);
      try {
        for (let i = 0; !frames.some((f) => f.event === 'bot.turn.ended'); i++) {
          if (i > 1500) throw new Error('no greeting');
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        clearInterval(mic);
      }
      const id = String(frames.find((f) => f.event === 'session.started')!.conversationId);
      const greeting = frames.find((f) => f.event === 'bot.turn.ended')!;
      expect(String(greeting.text)).toContain('This call is recorded.');
      ws.send(JSON.stringify({ event: 'hangup' }));
      await new Promise((r) => ws.once('close', r));
      await h.server.stop();
      const wav = parseWav(fs.readFileSync(path.join(h.dataDir, 'recordings', `${id}.wav`)));
      expect(wav).toMatchObject({ channels: 2, sampleRateHz: 8000 });
      expect(loudWindows(wav.left).length).toBeGreaterThan(0);
      expect(loudWindows(wav.right).length).toBeGreaterThan(0);
    } finally {
      await h.close();
    }
  }, 60_000);

  it('records nothing and says nothing about recording when RECORDING is off', async () => {
    const h = await startPhoneHarness({ deepgram: { utterances: [] }, cartesia: {} });
    try {
      const call = await h.call({ speedup: SPEEDUP });
      await waitForBotToFinish(call, 0);
      await call.hangUp();
      const d = await h.conversationByCallSid(call.callSid);
      expect(d.messages.find((m) => m.role === 'assistant')!.text).not.toContain('recorded');
      await h.server.stop();
      expect(fs.existsSync(path.join(h.dataDir, 'recordings'))).toBe(false);
    } finally {
      await h.close();
    }
  }, 60_000);
});
