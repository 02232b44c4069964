/**
 * The latency bench's yardstick (bench/bare-pipeline.ts) works: against the protocol fakes it
 * greets, then answers a caller's final transcript with one LLM stream spoken through Cartesia.
 */
import { startBarePipeline, type BarePipeline } from '../../bench/bare-pipeline.js';
import { startCartesiaFake, type CartesiaFake } from '../fakes/cartesia-server.js';
import { startDeepgramFake, type DeepgramFake } from '../fakes/deepgram-server.js';
import { loadAudioFixture } from '../fakes/fixtures.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-server.js';
import { startTwilioCall } from '../fakes/twilio-caller.js';
import { sayAndWait, waitForBotToFinish } from '../support/phone-harness.js';

describe('the bare pipeline of the latency bench', () => {
  let deepgram: DeepgramFake;
  let openai: OpenAIFake;
  let cartesia: CartesiaFake;
  let bare: BarePipeline;
  beforeAll(async () => {
    deepgram = await startDeepgramFake({ utterances: ['Okay, got it.'] });
    openai = await startOpenAIFake({ replies: [{ text: 'Hello there.' }, { text: 'Thank you.' }] });
    cartesia = await startCartesiaFake({ msPerChar: 5 });
    bare = await startBarePipeline({
      publicUrl: 'https://bare.example.test',
      twilioAuthToken: 'bare-token',
      deepgram: { apiKey: 'test-deepgram-key', url: deepgram.url, endpointingMs: 300 },
      openai: { apiKey: 'test-openai-key', baseURL: `${openai.url}/v1`, model: 'bare-pipeline' },
      cartesia: { apiKey: 'test-cartesia-key', url: cartesia.url, voiceId: 'voice', model: 'sonic-3' },
    });
  });
  afterAll(async () => {
    await bare.close();
    await Promise.all([deepgram.close(), openai.close(), cartesia.close()]);
  });

  it('greets, then answers the final transcript with one LLM stream spoken through Cartesia', async () => {
    const call = await startTwilioCall({
      serverBaseUrl: bare.url,
      publicUrl: 'https://bare.example.test',
      authToken: 'bare-token',
      from: '+15550000001',
      to: '+15557654321',
      speedup: 4,
    });
    await waitForBotToFinish(call, 0);
    const beforeAnswer = call.receivedBytes;
    await sayAndWait(call, loadAudioFixture('okay-got-it'), { speedup: 4 });
    await call.hangUp();

    expect(openai.requests).toHaveLength(2);
    expect(openai.requests[1]!.body!.tools).toBeUndefined();
    expect(openai.requests[1]!.body!.messages!.at(-1)).toEqual({ role: 'user', content: 'Okay, got it.' });
    expect(cartesia.contexts.map((c) => c.transcripts.join(''))).toEqual(['Hello there.', 'Thank you.']);
    // The answer reached the caller as media (whether its first frame came before or after the
    // caller's last frame depends on the machine's load, so no latency sample is asserted here).
    expect(call.receivedBytes).toBeGreaterThan(beforeAnswer);
    expect(call.protocolErrors).toEqual([]);
  });
});
