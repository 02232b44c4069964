/**
 * The latency bench's provider fakes run in a process of their own (bench/provider-fakes.ts) and
 * answer the bench over IPC: which Deepgram connections exist, what endpointing each asked for,
 * and when each non-empty final transcript was sent (epoch ms, the clock the callers share).
 */
import { DeepgramClient } from '@deepgram/sdk';
import { startProviderFakes, type ProviderFakes } from '../../bench/provider-fakes.js';
import { AUDIO_FIXTURE_TEXT, loadAudioFixture } from '../fakes/fixtures.js';
import { mulawSilence } from '../fakes/mulaw.js';

describe('the latency bench provider fakes process', () => {
  let fakes: ProviderFakes;
  beforeAll(async () => {
    fakes = await startProviderFakes({ llmTtfbMs: 0, ttsTtfbMs: 0, length: 'warmup', msPerChar: 5 });
  });
  afterAll(async () => {
    await fakes.close();
  });

  it('reports a Deepgram connection, its endpointing and the final it sent, in epoch ms', async () => {
    expect(await fakes.sessionCount()).toBe(0);
    const dg = new DeepgramClient({ apiKey: 'test-deepgram-key', baseUrl: fakes.deepgramUrl });
    const conn = await dg.listen.v1.connect({
      model: 'nova-3',
      encoding: 'mulaw',
      sample_rate: 8000,
      channels: 1,
      interim_results: 'true',
      endpointing: 120,
      reconnectAttempts: 0,
    } as unknown as Parameters<DeepgramClient['listen']['v1']['connect']>[0]);
    const transcripts: string[] = [];
    conn.on('message', (m: unknown) => {
      const r = m as {
        type?: string;
        is_final?: boolean;
        channel?: { alternatives?: { transcript?: string }[] };
      };
      const text = r.channel?.alternatives?.[0]?.transcript;
      if (r.type === 'Results' && r.is_final && text) transcripts.push(text);
    });
    conn.connect();
    await conn.waitForOpen();
    const sentFrom = performance.timeOrigin + performance.now();
    const stream = Buffer.concat([loadAudioFixture('okay-got-it'), mulawSilence(1000)]);
    for (let i = 0; i < stream.length; i += 160) conn.sendMedia(stream.subarray(i, i + 160));

    expect(await fakes.session(0)).toEqual({ endpointing: '120' });
    let finals: number[] = [];
    for (let tries = 0; tries < 200 && finals.length === 0; tries++) {
      finals = await fakes.finals(0);
      if (finals.length === 0) await new Promise((r) => setTimeout(r, 25));
    }
    conn.close();
    // The warm-up script: the first utterance of a call is the acknowledgement.
    const plain = (t: string | undefined) => t?.toLowerCase().replace(/[^a-z ]/g, '');
    expect(plain(transcripts[0])).toBe(plain(AUDIO_FIXTURE_TEXT['okay-got-it']));
    expect(finals).toHaveLength(1);
    expect(finals[0]).toBeGreaterThan(sentFrom);
    expect(await fakes.sessionCount()).toBe(1);
  });

  it('tells connections apart by the tag in their audio, whatever order they opened in', async () => {
    const dg = new DeepgramClient({ apiKey: 'test-deepgram-key', baseUrl: fakes.deepgramUrl });
    const open = async (tag: number[]) => {
      const conn = await dg.listen.v1.connect({
        model: 'nova-3',
        encoding: 'mulaw',
        sample_rate: 8000,
        reconnectAttempts: 0,
      } as unknown as Parameters<DeepgramClient['listen']['v1']['connect']>[0]);
      conn.connect();
      await conn.waitForOpen();
      const frame = Buffer.alloc(160, 0xff);
      Buffer.from(tag).copy(frame);
      for (let i = 0; i < 5; i++) conn.sendMedia(frame);
      return conn;
    };
    const before = await fakes.sessionCount();
    const tagB = [0x7e, 0xfe, 0x7e, 0xfe, 0xf0, 0xf0, 0xf0, 0xf2, 0xfe, 0x7e];
    const tagA = [0x7e, 0xfe, 0x7e, 0xfe, 0xf0, 0xf0, 0xf0, 0xf1, 0xfe, 0x7e];
    const first = await open(tagB);
    const second = await open(tagA);
    expect(await fakes.sessionTagged(tagA)).toBe(before + 1);
    expect(await fakes.sessionTagged(tagB)).toBe(before);
    first.close();
    second.close();
  });
});
