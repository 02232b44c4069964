/**
 * The post-call delivery queue against a local HTTP receiver: signed over timestamp and raw body,
 * the report built from the stored conversation, retried after a 500, given up on a final 4xx,
 * and resumed by a new process from the files the previous one left.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPostCallWebhook, type PostCallWebhookOptions } from '../../src/reports/post-call-webhook.js';
import type { PostCallReport } from '../../src/reports/post-call-report.js';
import { verifyWebhookSignature } from '../../src/reports/webhook-signature.js';
import type { ConversationDetail } from '../../src/store/types.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const ID = '6f1c1e2a-4b7d-4c3e-9a55-0d1b2c3d4e5f';
const SECRET = 'test-webhook-secret';
const silent = { info() {}, warn() {}, error() {} };

const detail: ConversationDetail = {
  conversation: {
    id: ID,
    call_sid: 'CA123',
    stream_sid: 'MZ1',
    from_number: '…4567',
    to_number: '…4321',
    channel: 'phone',
    voice: true,
    claim_id: 'CLM-4821-0937',
    claim_date: '2026-03-03',
    claim_amount: 1250,
    claim_status: 'Pending',
    state: 'done',
    machine_version: 'v1',
    created_at: '2026-11-25T10:00:00.000Z',
    updated_at: '2026-11-25T10:01:30.000Z',
    ended_at: '2026-11-25T10:01:30.000Z',
    end_reason: 'completed',
    instance_id: null,
  },
  messages: [
    {
      conversation_id: ID,
      seq: 0,
      role: 'assistant',
      text: 'Hello.',
      heard_text: null,
      interrupted: false,
      turn: 0,
      created_at: '2026-11-25T10:00:01.000Z',
    },
    {
      conversation_id: ID,
      seq: 1,
      role: 'user',
      text: 'Okay, got it.',
      heard_text: null,
      interrupted: false,
      turn: 1,
      created_at: '2026-11-25T10:00:05.000Z',
    },
    {
      conversation_id: ID,
      seq: 2,
      role: 'tool',
      text: '{"ok":true}',
      heard_text: null,
      interrupted: false,
      turn: 1,
      created_at: '2026-11-25T10:00:05.500Z',
    },
  ],
  transitions: [],
  metrics: null,
};

/** Resolves once `cond` holds (the queue works in the background); fails after 10 s. */
async function until(cond: () => boolean) {
  for (let i = 0; !cond(); i++) {
    if (i > 500) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-hook-'));

function queue(receiver: WebhookReceiver, dir: string, over: Partial<PostCallWebhookOptions> = {}) {
  return createPostCallWebhook({
    url: receiver.url,
    secret: SECRET,
    dir,
    waitForWrites: async () => {},
    load: async (id) => (id === ID ? detail : null),
    recordingUrl: async (id) => `https://statecall.example/api/conversations/${id}/recording`,
    logger: silent,
    initialBackoffMs: 20,
    maxBackoffMs: 50,
    ...over,
  });
}

describe('the post-call webhook', () => {
  let receiver: WebhookReceiver;
  afterEach(async () => receiver?.close());

  it('POSTs the stored conversation as JSON, signed with HMAC-SHA256 over the timestamp and raw body', async () => {
    receiver = await startWebhookReceiver();
    const dir = tmp();
    const q = queue(receiver, dir);
    await q.start();
    q.conversationEnded(ID);
    q.conversationEnded(ID); // once per conversation
    await receiver.waitFor(1);
    const [hook] = receiver.received;
    const ts = hook!.headers['x-statecall-timestamp'] as string;
    const expected = createHmac('sha256', SECRET).update(`${ts}.${hook!.body}`).digest('hex');
    expect(hook!.headers['x-statecall-signature']).toBe(`sha256=${expected}`);
    expect(hook!.headers['content-type']).toBe('application/json');
    expect(hook!.headers['x-statecall-delivery']).toBe(ID);
    const sig = {
      secret: SECRET,
      body: hook!.body,
      signature: hook!.headers['x-statecall-signature'] as string,
    };
    expect(verifyWebhookSignature({ ...sig, timestamp: ts })).toBe(true);
    expect(verifyWebhookSignature({ ...sig, timestamp: ts, body: `${hook!.body} ` })).toBe(false);
    // A replay an hour later is refused by a receiver that checks the age.
    expect(verifyWebhookSignature({ ...sig, timestamp: ts, nowS: Number(ts) + 3600 })).toBe(false);

    const report = JSON.parse(hook!.body) as PostCallReport;
    expect(report).toMatchObject({
      type: 'conversation.ended',
      version: 1,
      conversation: { id: ID, channel: 'phone', callSid: 'CA123', from: '…4567', durationMs: 90_000 },
      claim: { claimId: 'CLM-4821-0937', claimDate: '2026-03-03', claimAmount: 1250, claimStatus: 'Pending' },
      endReason: 'completed',
      metrics: null,
      recording: {
        url: `https://statecall.example/api/conversations/${ID}/recording`,
        contentType: 'audio/wav',
      },
    });
    expect(report.transcript.map((t) => [t.role, t.text])).toEqual([
      ['assistant', 'Hello.'],
      ['user', 'Okay, got it.'],
    ]);
    await until(() => q.stats().delivered === 1);
    await q.close();
    expect(q.stats()).toMatchObject({ delivered: 1, pending: 0 });
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.json'))).toEqual([]);
  });

  it('retries after a 500 with the same body and a fresh signature', async () => {
    receiver = await startWebhookReceiver([500, 503]);
    const q = queue(receiver, tmp());
    await q.start();
    q.conversationEnded(ID);
    await receiver.waitFor(3);
    const [a, b, c] = receiver.received;
    expect(b!.body).toBe(a!.body);
    expect(c!.body).toBe(a!.body);
    expect(c!.headers['x-statecall-attempt']).toBe('3');
    await until(() => q.stats().delivered === 1);
    await q.close();
    expect(q.stats()).toMatchObject({ delivered: 1, retries: 2, failed: 0 });
  });

  it('gives up on a final 4xx and keeps the delivery under failed/', async () => {
    receiver = await startWebhookReceiver([400]);
    const dir = tmp();
    const errors: string[] = [];
    const q = queue(receiver, dir, { logger: { ...silent, error: (_o, m) => errors.push(m ?? '') } });
    await q.start();
    q.conversationEnded(ID);
    await receiver.waitFor(1);
    await until(() => q.stats().failed === 1);
    await q.close();
    expect(q.stats()).toMatchObject({ failed: 1, delivered: 0 });
    expect(fs.existsSync(path.join(dir, 'failed', `${ID}.json`))).toBe(true);
    expect(errors).toEqual(['post-call report given up']);
    expect(receiver.received).toHaveLength(1);
  });

  it('survives a restart: a new process delivers what the previous one could not', async () => {
    receiver = await startWebhookReceiver(['hold']);
    const dir = tmp();
    const first = queue(receiver, dir);
    await first.start();
    first.conversationEnded(ID);
    await receiver.waitFor(1);
    await first.close(); // the process goes away while the receiver holds the request
    expect(fs.existsSync(path.join(dir, `${ID}.json`))).toBe(true);

    // The new process has no store entry to rebuild from: it sends the body kept in the file.
    const second = queue(receiver, dir, { load: async () => null });
    await second.start();
    await receiver.waitFor(2);
    expect(receiver.received[1]!.body).toBe(receiver.received[0]!.body);
    await until(() => second.stats().delivered === 1);
    await second.close();
    expect(second.stats()).toMatchObject({ delivered: 1 });
  });

  it('waits for the conversation to be in the store before building the report', async () => {
    receiver = await startWebhookReceiver();
    let writes = 0;
    let loads = 0;
    const q = queue(receiver, tmp(), {
      waitForWrites: async () => void (writes += 1),
      // The first look finds the row without its end (the outbox had not written it yet).
      load: async () =>
        ++loads === 1 ? { ...detail, conversation: { ...detail.conversation, ended_at: null } } : detail,
    });
    await q.start();
    q.conversationEnded(ID);
    await until(() => q.stats().delivered === 1);
    await q.close();
    expect(loads).toBe(2);
    expect(writes).toBe(2);
    expect(JSON.parse(receiver.received[0]!.body).conversation.endedAt).toBe(detail.conversation.ended_at);
  });
});
