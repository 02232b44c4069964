/**
 * The OpenAI fake, driven by the real `openai` 6.x SDK (no mocks).
 *
 * How the engine connects:
 *   const client = new OpenAI({ apiKey, baseURL: OPENAI_BASE_URL, maxRetries: 0 });   // fake.url + '/v1'
 *   const stream = await client.chat.completions.create({ model, messages, tools, tool_choice: 'auto',
 *     stream: true, stream_options: { include_usage: true } }, { signal });
 */
import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-server.js';

const KEY = 'test-openai-key';
const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'record_amount',
      parameters: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] },
    },
  },
  {
    type: 'function',
    function: {
      name: 'record_date',
      parameters: { type: 'object', properties: { date: { type: 'string' } }, required: ['date'] },
    },
  },
];
const messages: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'Collect the claim amount.' },
  { role: 'user', content: 'Twelve hundred fifty dollars.' },
];

/** Streams one completion and joins it the way the engine must (tool calls by index). */
async function collect(stream: AsyncIterable<ChatCompletionChunk>) {
  const chunks: ChatCompletionChunk[] = [];
  let text = '';
  const calls: Array<{ id?: string; name?: string; arguments: string }> = [];
  let finish: string | null = null;
  for await (const chunk of stream) {
    chunks.push(chunk);
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += choice.delta.content ?? '';
    for (const tc of choice.delta.tool_calls ?? []) {
      const slot = (calls[tc.index] ??= { arguments: '' });
      if (tc.id) slot.id = tc.id;
      if (tc.function?.name) slot.name = tc.function.name;
      slot.arguments += tc.function?.arguments ?? '';
    }
    finish = choice.finish_reason ?? finish;
  }
  return { chunks, text, calls, finish };
}

describe('OpenAI fake with the real SDK', () => {
  let fake: OpenAIFake;
  let client: OpenAI;
  const start = async (opts: Parameters<typeof startOpenAIFake>[0] = {}) => {
    fake = await startOpenAIFake(opts);
    client = new OpenAI({ apiKey: KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 });
  };
  afterEach(async () => {
    await fake.close();
  });

  it('streams text as role delta, content deltas, a finish chunk and a usage chunk with empty choices', async () => {
    await start({ replies: [{ text: 'Got it, twelve hundred fifty dollars.' }] });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { chunks, text, finish } = await collect(stream);
    expect(text).toBe('Got it, twelve hundred fifty dollars.');
    expect(finish).toBe('stop');
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({
      prompt_tokens: expect.any(Number),
      completion_tokens: expect.any(Number),
    });
    const finishChunk = chunks[chunks.length - 2]!;
    expect(finishChunk.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(fake.requests[0]).toMatchObject({ completed: true, aborted: false, status: 200 });
    expect(fake.requests[0]!.body).toMatchObject({ model: 'gpt-4o-mini', stream: true });
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('writes the exact SSE wire format, ending with data: [DONE]', async () => {
    await start({ replies: [{ text: 'Hi.' }] });
    const res = await fetch(`${fake.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages, stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = await res.text();
    const events = body.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events[events.length - 1]).toBe('data: [DONE]');
    const first = JSON.parse(events[0]!.slice(6)) as Record<string, unknown>;
    expect(first).toMatchObject({
      object: 'chat.completion.chunk',
      choices: [{ index: 0, finish_reason: null }],
    });
    expect('usage' in first).toBe(false); // no include_usage: no usage field at all
  });

  it('streams tool calls split across chunks that join by index, with finish_reason tool_calls', async () => {
    await start({
      replies: [
        {
          toolCalls: [
            { name: 'record_amount', arguments: { amount: 1250 } },
            { name: 'record_date', arguments: { date: '2025-03-03' } },
          ],
        },
      ],
    });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      tools,
      tool_choice: 'auto',
      stream: true,
      stream_options: { include_usage: true },
    });
    const { chunks, text, calls, finish } = await collect(stream);
    expect(text).toBe('');
    expect(finish).toBe('tool_calls');
    expect(calls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
      ['record_amount', { amount: 1250 }],
      ['record_date', { date: '2025-03-03' }],
    ]);
    expect(calls.every((c) => c.id?.startsWith('call_'))).toBe(true);
    // Like the API: a tool-only reply's first delta carries the role, content null and the first call head.
    expect(chunks[0]!.choices[0]!.delta).toMatchObject({
      role: 'assistant',
      content: null,
      tool_calls: [{ index: 0, type: 'function', function: { name: 'record_amount', arguments: '' } }],
    });
    const argChunks = chunks.filter((c) => c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments);
    expect(argChunks.length).toBeGreaterThan(2);
  });

  it('accepts the tool round trip (assistant tool_calls then tool results) and rejects an unanswered tool call with 400', async () => {
    await start({ replies: [{ text: 'Thanks.' }] });
    const withResult: ChatCompletionMessageParam[] = [
      ...messages,
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_9',
            type: 'function',
            function: { name: 'record_amount', arguments: '{"amount":1250}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_9', content: 'ok' },
    ];
    const ok = await collect(
      await client.chat.completions.create({ model: 'm', messages: withResult, tools, stream: true }),
    );
    expect(ok.text).toBe('Thanks.');

    const missing = withResult.slice(0, -1);
    await expect(
      client.chat.completions.create({ model: 'm', messages: missing, tools, stream: true }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("must be followed by tool messages responding to each 'tool_call_id'"),
    });
    const orphan: ChatCompletionMessageParam[] = [
      ...messages,
      { role: 'tool', tool_call_id: 'call_x', content: 'ok' },
    ];
    await expect(
      client.chat.completions.create({ model: 'm', messages: orphan, stream: true }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('answers 500 when the script calls a tool the request did not offer', async () => {
    await start({ replies: [{ toolCalls: [{ name: 'record_amount', arguments: { amount: 1 } }] }] });
    await expect(
      client.chat.completions.create({ model: 'm', messages, stream: true }),
    ).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  });

  it('records a client abort mid-stream; the SDK loop just ends without an error', async () => {
    await start({
      replies: [{ text: 'one two three four five six seven eight nine ten', interTokenMs: 30 }],
    });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'm', messages, stream: true },
      { signal: controller.signal },
    );
    let received = '';
    let threw: unknown;
    try {
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta.content ?? '';
        if (received.includes('two')) controller.abort();
      }
    } catch (err) {
      threw = err;
    }
    await fake.requests[0]!.settled;
    expect(threw).toBeUndefined(); // PROTOCOLS §0: never infer "completed" from the loop ending
    expect(received).not.toContain('ten');
    expect(fake.requests[0]).toMatchObject({ aborted: true, completed: false });
  });

  it('makes the SDK throw APIUserAbortError when aborted before the headers arrive', async () => {
    await start({ replies: [{ text: 'late', headersDelayMs: 200 }] });
    const controller = new AbortController();
    const pending = client.chat.completions.create(
      { model: 'm', messages, stream: true },
      { signal: controller.signal },
    );
    // Abort once the fake holds the request (a fixed delay races the request on a loaded machine).
    void (async () => {
      while (fake.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
      controller.abort();
    })();
    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    await fake.requests[0]!.settled;
    expect(fake.requests[0]!.aborted).toBe(true);
  });

  it('delays the first chunk by ttfbMs after the headers', async () => {
    await start({ replies: [{ text: 'Hello there.', ttfbMs: 150 }] });
    const t0 = performance.now();
    const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
    const tHeaders = performance.now();
    for await (const _chunk of stream) break;
    const tFirst = performance.now();
    expect(tFirst - tHeaders).toBeGreaterThanOrEqual(100);
    expect(tFirst - t0).toBeGreaterThanOrEqual(140);
  });

  it('maps scripted error statuses to the SDK error classes (429 RateLimitError with maxRetries 0)', async () => {
    await start({ replies: [{ status: 429 }, { status: 503 }] });
    await expect(
      client.chat.completions.create({ model: 'm', messages, stream: true }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toBeInstanceOf(
      OpenAI.InternalServerError,
    );
    expect(fake.requests).toHaveLength(2); // no retries
  });

  it('rejects a wrong key with 401 invalid_api_key (AuthenticationError)', async () => {
    await start({ replies: [{ text: 'never' }] });
    const bad = new OpenAI({ apiKey: 'sk-wrong-key-123456', baseURL: `${fake.url}/v1`, maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: 'm', messages })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
    });
  });

  it('breaks a stream mid-way: a reset connection or an error event makes the SDK loop throw', async () => {
    await start({
      replies: [
        { text: 'one two three four', failMidStreamAfterChunks: 2 },
        { text: 'one two three four', failMidStreamAfterChunks: 2, failMode: 'error-event' },
      ],
    });
    const reset = await client.chat.completions.create({ model: 'm', messages, stream: true });
    await expect(collect(reset)).rejects.toBeDefined();
    const errorEvent = await client.chat.completions.create({ model: 'm', messages, stream: true });
    await expect(collect(errorEvent)).rejects.toBeInstanceOf(OpenAI.APIError);
    expect(fake.requests.map((r) => r.failedMidStream)).toEqual([true, true]);
    expect(fake.requests.map((r) => r.aborted)).toEqual([false, false]);
  });

  it('answers non-stream requests with a JSON completion (tool calls with content null)', async () => {
    await start({
      replies: (body) => ({ toolCalls: [{ name: 'record_date', arguments: { date: String(body.model) } }] }),
    });
    const completion = await client.chat.completions.create({ model: 'gpt-x', messages, tools });
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]!.message.content).toBeNull();
    const call = completion.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ date: 'gpt-x' });
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
  });
});
