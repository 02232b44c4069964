/**
 * A fake OpenAI chat-completions server (`POST /v1/chat/completions`, PROTOCOLS.md §3) on
 * 127.0.0.1, for the real `openai` SDK pointed at `baseURL: fake.url + '/v1'`.
 *
 * Replies are scripted (a queue, or a function of the request body). Streams are byte-for-byte
 * in the real shape: a first delta with the role, content deltas, tool-call deltas split across
 * chunks and joined by `index`, a last choice chunk with `delta:{}` and `finish_reason`, a usage
 * chunk with `choices:[]` when `stream_options.include_usage`, then `data: [DONE]`.
 *
 * It is as strict as the real API where strictness catches engine bugs: bearer auth (401
 * `invalid_api_key`), `model`/`messages` required, `stream_options` only with `stream:true`, every
 * `tool` message must answer a `tool_calls` id of the preceding assistant message and every
 * such id must be answered (400 like the real API), and a scripted tool call must name a tool the
 * request offered (unless `allowUnofferedTools`).
 *
 * Each request is recorded with its body, headers, and whether the client aborted it (socket
 * closed before the fake finished).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { listenEphemeral, TimerBag, waitUntil } from './fake-server-util.js';

/** A scripted tool call. `arguments` is serialised with JSON.stringify unless already a string. */
export interface OpenAIFakeToolCall {
  name: string;
  arguments: object | string;
  /** Defaults to `call_<n>` (unique per fake). */
  id?: string;
}

/** One scripted reply. */
export interface OpenAIFakeReply {
  /** Assistant text; streamed as word-sized deltas. */
  text?: string;
  /** Tool calls, streamed after the text. */
  toolCalls?: OpenAIFakeToolCall[];
  /** Delay before the response headers (an abort before it makes the SDK throw). Default 0. */
  headersDelayMs?: number;
  /** Delay between the headers and the first chunk. Default 0. */
  ttfbMs?: number;
  /** Delay between chunks. Default 0. */
  interTokenMs?: number;
  /** Non-2xx status: answered with an OpenAI error JSON instead of a completion. */
  status?: number;
  /** Error body fields for `status` (defaults depend on the status). */
  error?: { message?: string; type?: string; code?: string | null; param?: string | null };
  /** Extra response headers (e.g. `retry-after-ms` for a 429). */
  headers?: Record<string, string>;
  /**
   * After this many chunks, fail the stream: `'destroy'` (default) resets the connection with no
   * `[DONE]`; `'error-event'` sends `data: {"error":{...}}` like the API does for a mid-stream error.
   */
  failMidStreamAfterChunks?: number;
  failMode?: 'destroy' | 'error-event';
  /** Overrides the computed finish reason (`tool_calls` if there are tool calls, else `stop`). */
  finishReason?: 'stop' | 'tool_calls' | 'length' | 'content_filter';
}

/** The body of a chat-completions request, as the fake sees it. */
export type ChatCompletionRequestBody = Record<string, unknown> & {
  model?: string;
  messages?: Array<Record<string, unknown>>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  tools?: Array<{ type: string; function: { name: string } }>;
};

/** Script: a queue consumed in order, or a function called for every request. */
export type OpenAIFakeScript =
  OpenAIFakeReply[] | ((body: ChatCompletionRequestBody, index: number) => OpenAIFakeReply);

/** Options of {@link startOpenAIFake}. */
export interface OpenAIFakeOptions {
  /** Clients must send `Authorization: Bearer <key>`. Default `test-openai-key`. */
  apiKey?: string;
  replies?: OpenAIFakeScript;
  /** Let scripted tool calls name tools the request did not offer. Default false (500 error). */
  allowUnofferedTools?: boolean;
}

/** One request the fake received. */
export interface OpenAIRequestRecord {
  readonly index: number;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined if it did not parse). */
  readonly body: ChatCompletionRequestBody | undefined;
  readonly receivedAt: number;
  /** Status the fake answered with (0 before headers were written). */
  status: number;
  /** SSE chunks written (excluding `[DONE]`). */
  chunksSent: number;
  /** The fake finished the response normally. */
  completed: boolean;
  /** The client closed the socket before the fake finished (e.g. `AbortController.abort()`). */
  aborted: boolean;
  /** The fake broke the stream on purpose (`failMidStreamAfterChunks`). */
  failedMidStream: boolean;
  /** Resolves when the request is settled (completed, aborted, or failed by injection). */
  readonly settled: Promise<void>;
}

/** A running fake OpenAI server. */
export interface OpenAIFake {
  /** `http://127.0.0.1:PORT`; the SDK's `baseURL` is `url + '/v1'`. */
  readonly url: string;
  readonly port: number;
  readonly requests: readonly OpenAIRequestRecord[];
  /** Appends scripted replies (only when the script is a queue). */
  enqueue(...replies: OpenAIFakeReply[]): void;
  /** Replaces the script. */
  setReplies(script: OpenAIFakeScript): void;
  /** Resolves with request `index` once it arrived. */
  waitForRequest(index?: number, timeoutMs?: number): Promise<OpenAIRequestRecord>;
  close(): Promise<void>;
}

/** Starts a fake OpenAI chat-completions server on an ephemeral port. */
export async function startOpenAIFake(options: OpenAIFakeOptions = {}): Promise<OpenAIFake> {
  const apiKey = options.apiKey ?? 'test-openai-key';
  let script: OpenAIFakeScript = options.replies ?? [];
  let queuePos = 0;
  let callCounter = 0;
  let completionCounter = 0;
  const requests: OpenAIRequestRecord[] = [];
  const timers = new TimerBag();
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };

  const http = await listenEphemeral((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, { message: `fake: ${String(err)}`, type: 'server_error' });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: ChatCompletionRequestBody | undefined;
    try {
      body = raw.length ? (JSON.parse(raw) as ChatCompletionRequestBody) : undefined;
    } catch {
      body = undefined;
    }
    let settle!: () => void;
    const record: OpenAIRequestRecord = {
      index: requests.length,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body,
      receivedAt: performance.now(),
      status: 0,
      chunksSent: 0,
      completed: false,
      aborted: false,
      failedMidStream: false,
      settled: new Promise<void>((r) => (settle = r)),
    };
    requests.push(record);
    notify();
    res.on('close', () => {
      if (!record.completed && !record.failedMidStream && !res.writableFinished) record.aborted = true;
      settle();
      notify();
    });
    const fail = (status: number, error: ErrorFields, headers?: Record<string, string>): void => {
      record.status = status;
      record.completed = true;
      sendError(res, status, error, headers);
    };

    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/v1/chat/completions') {
      return fail(404, {
        message: `Unknown request URL: ${req.method} ${req.url}. Please check the URL for typos, or see the docs at https://platform.openai.com/docs/api-reference/.`,
        type: 'invalid_request_error',
        code: 'unknown_url',
      });
    }
    const auth = req.headers.authorization;
    if (auth !== `Bearer ${apiKey}`) {
      const given = auth?.replace(/^Bearer\s+/, '') ?? '';
      return fail(
        401,
        given
          ? {
              message: `Incorrect API key provided: ${mask(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
              type: 'invalid_request_error',
              code: 'invalid_api_key',
            }
          : {
              message:
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
              type: 'invalid_request_error',
              code: null,
            },
      );
    }
    if (!body) {
      return fail(400, {
        message:
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        type: 'invalid_request_error',
      });
    }
    const invalid = validateRequest(body);
    if (invalid) return fail(400, { type: 'invalid_request_error', ...invalid });

    let reply: OpenAIFakeReply | undefined;
    if (typeof script === 'function') reply = script(body, record.index);
    else reply = script[queuePos++];
    if (!reply) {
      return fail(500, {
        message: 'openai fake: no scripted reply left for this request',
        type: 'server_error',
      });
    }
    const offered = new Set((body.tools ?? []).map((t) => t.function?.name));
    const unoffered = (reply.toolCalls ?? []).filter((c) => !offered.has(c.name));
    if (unoffered.length && !options.allowUnofferedTools) {
      return fail(500, {
        message: `openai fake: scripted tool call(s) ${unoffered.map((c) => c.name).join(', ')} not offered in request.tools [${[...offered].join(', ')}]`,
        type: 'server_error',
      });
    }
    if (reply.status && reply.status >= 400) {
      await sleep(reply.headersDelayMs);
      return fail(reply.status, defaultError(reply.status, reply.error), reply.headers);
    }

    const completionId = `chatcmpl-fake${++completionCounter}`;
    const created = Math.floor(Date.now() / 1000);
    const model = String(body.model);
    const toolCalls = (reply.toolCalls ?? []).map((c) => ({
      id: c.id ?? `call_${++callCounter}`,
      name: c.name,
      arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
    }));
    const text = reply.text ?? '';
    const finishReason = reply.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop');
    const promptTokens = Math.ceil(JSON.stringify(body.messages ?? []).length / 4);
    const completionTokens = Math.max(
      1,
      Math.ceil((text.length + toolCalls.reduce((n, c) => n + c.arguments.length, 0)) / 4),
    );
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };

    await sleep(reply.headersDelayMs);
    if (record.aborted) return;

    if (body.stream !== true) {
      await sleep(reply.ttfbMs);
      if (record.aborted) return;
      record.status = 200;
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'x-request-id': `req_fake${record.index}`,
        ...reply.headers,
      });
      res.end(
        JSON.stringify({
          id: completionId,
          object: 'chat.completion',
          created,
          model,
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: text || toolCalls.length === 0 ? text : null,
                refusal: null,
                annotations: [],
                ...(toolCalls.length
                  ? {
                      tool_calls: toolCalls.map((c) => ({
                        id: c.id,
                        type: 'function',
                        function: { name: c.name, arguments: c.arguments },
                      })),
                    }
                  : {}),
              },
              logprobs: null,
              finish_reason: finishReason,
            },
          ],
          usage,
          service_tier: 'default',
          system_fingerprint: 'fp_fake',
        }),
      );
      record.completed = true;
      return;
    }

    // Streaming.
    const includeUsage = body.stream_options?.include_usage === true;
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      id: completionId,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: 'fp_fake',
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    });
    const choice = (delta: Record<string, unknown>, finish: string | null = null) => ({
      index: 0,
      delta,
      logprobs: null,
      finish_reason: finish,
    });
    const chunks: Array<Record<string, unknown>> = [];
    if (text || toolCalls.length === 0) {
      chunks.push(chunk([choice({ role: 'assistant', content: '', refusal: null })]));
      for (const piece of splitText(text)) chunks.push(chunk([choice({ content: piece })]));
    }
    toolCalls.forEach((call, index) => {
      const head = {
        index,
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: '' },
      };
      // Like the API: when the reply starts with a tool call, that first delta carries the role.
      chunks.push(
        chunk([
          choice(
            chunks.length === 0
              ? { role: 'assistant', content: null, tool_calls: [head], refusal: null }
              : { tool_calls: [head] },
          ),
        ]),
      );
      for (const piece of splitEvery(call.arguments, 7)) {
        chunks.push(chunk([choice({ tool_calls: [{ index, function: { arguments: piece } }] })]));
      }
    });
    chunks.push(chunk([choice({}, finishReason)]));
    if (includeUsage) chunks.push(chunk([], { usage }));

    record.status = 200;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'x-request-id': `req_fake${record.index}`,
      ...reply.headers,
    });
    res.flushHeaders();
    await sleep(reply.ttfbMs);
    for (let i = 0; i < chunks.length; i++) {
      if (record.aborted) return;
      if (reply.failMidStreamAfterChunks !== undefined && i >= reply.failMidStreamAfterChunks) {
        record.failedMidStream = true;
        if (reply.failMode === 'error-event') {
          res.write(
            `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } })}\n\n`,
          );
          res.end();
        } else {
          res.destroy();
        }
        settle();
        return;
      }
      if (i > 0) await sleep(reply.interTokenMs);
      if (record.aborted) return;
      res.write(`data: ${JSON.stringify(chunks[i])}\n\n`);
      record.chunksSent++;
      notify();
    }
    if (record.aborted) return;
    record.completed = true;
    res.end('data: [DONE]\n\n');
  }

  function sleep(ms: number | undefined): Promise<void> {
    if (!ms) return Promise.resolve();
    return new Promise((resolve) => timers.set(resolve, ms));
  }

  return {
    url: http.url,
    port: http.port,
    requests,
    enqueue(...replies) {
      if (typeof script === 'function') throw new Error('openai fake: the script is a function, not a queue');
      script.push(...replies);
    },
    setReplies(next) {
      script = next;
      queuePos = 0;
    },
    waitForRequest(index = 0, timeoutMs = 5000) {
      return waitUntil(
        () => requests[index],
        (l) => {
          listeners.add(l);
          return () => listeners.delete(l);
        },
        timeoutMs,
        `openai request #${index}`,
      );
    },
    async close() {
      timers.clearAll();
      await http.close();
      listeners.clear();
    },
  };
}

interface ErrorFields {
  message: string;
  type: string;
  param?: string | null;
  code?: string | null;
}

function sendError(
  res: ServerResponse,
  status: number,
  error: ErrorFields,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(
    JSON.stringify({
      error: {
        message: error.message,
        type: error.type,
        param: error.param ?? null,
        code: error.code ?? null,
      },
    }),
  );
}

function defaultError(status: number, given: OpenAIFakeReply['error']): ErrorFields {
  const base: ErrorFields =
    status === 429
      ? {
          message:
            'Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1.',
          type: 'requests',
          code: 'rate_limit_exceeded',
        }
      : status >= 500
        ? {
            message: 'The server had an error while processing your request. Sorry about that!',
            type: 'server_error',
          }
        : { message: 'Invalid request (fake).', type: 'invalid_request_error' };
  return { ...base, ...given, message: given?.message ?? base.message, type: given?.type ?? base.type };
}

/** The checks of the real API that catch engine bugs; returns the error fields or undefined. */
function validateRequest(body: ChatCompletionRequestBody): Omit<ErrorFields, 'type'> | undefined {
  if (typeof body.model !== 'string' || !body.model) {
    return { message: 'you must provide a model parameter', param: null };
  }
  if (!Array.isArray(body.messages)) {
    return {
      message: "Missing required parameter: 'messages'.",
      param: 'messages',
      code: 'missing_required_parameter',
    };
  }
  if (body.messages.length === 0) {
    return {
      message:
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      param: 'messages',
      code: 'empty_array',
    };
  }
  if (body.stream_options != null && body.stream !== true) {
    return {
      message: "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      param: 'stream_options',
      code: null,
    };
  }
  const msgs = body.messages;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i] ?? {};
    const role = m.role;
    if (!['system', 'developer', 'user', 'assistant', 'tool'].includes(String(role))) {
      return {
        message: `Invalid value: '${String(role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        param: `messages[${i}].role`,
        code: 'invalid_value',
      };
    }
    if (role === 'tool') {
      // Walk back over the tool messages to the assistant message they answer.
      let j = i - 1;
      while (j >= 0 && msgs[j]?.role === 'tool') j--;
      const calls = toolCallIds(msgs[j]);
      if (j < 0 || msgs[j]?.role !== 'assistant' || !calls.includes(String(m.tool_call_id))) {
        return {
          message:
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          param: `messages.[${i}].role`,
          code: null,
        };
      }
    }
    if (role === 'assistant') {
      const calls = toolCallIds(m);
      if (calls.length) {
        const answered = new Set<string>();
        for (let k = i + 1; k < msgs.length && msgs[k]?.role === 'tool'; k++)
          answered.add(String(msgs[k]?.tool_call_id));
        const missing = calls.filter((id) => !answered.has(id));
        if (missing.length) {
          return {
            message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${missing.join(', ')}`,
            param: 'messages',
            code: null,
          };
        }
      } else if ((m.content === null || m.content === undefined) && !m.refusal) {
        return {
          message: `Invalid value for 'content': expected a string, got null.`,
          param: `messages.[${i}].content`,
          code: null,
        };
      }
    }
  }
  return undefined;
}

function toolCallIds(m: Record<string, unknown> | undefined): string[] {
  const calls = m?.tool_calls;
  return Array.isArray(calls) ? calls.map((c: { id?: unknown }) => String(c.id)) : [];
}

/** Word-sized deltas that keep their leading space, like BPE tokens (`"Hel"`, `"lo"`, `" there"`). */
function splitText(text: string): string[] {
  const out: string[] = [];
  for (const word of text.match(/\s*\S+|\s+$/g) ?? []) {
    if (word.length > 8) out.push(...splitEvery(word, 5));
    else out.push(word);
  }
  return out;
}

function splitEvery(s: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out.length ? out : [''];
}

function mask(key: string): string {
  return key.length <= 8
    ? '*'.repeat(key.length)
    : `${key.slice(0, 3)}${'*'.repeat(Math.max(0, key.length - 7))}${key.slice(-4)}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
