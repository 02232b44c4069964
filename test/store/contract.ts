/**
 * The behaviour every `ConversationStore` adapter must show. Each adapter's test file calls
 * {@link storeContract} with a factory; the suite shares one database per adapter, so every test
 * uses fresh ids and claim ids, and the listing tests use creation dates far in the future.
 */
import { randomUUID } from 'node:crypto';
import { ClaimIdConflictError, SERVER_CRASHED, type ConversationStore } from '../../src/store/types.js';
import { claimId, message, metrics, newConversation, transition } from './fixtures.js';

export interface ContractTarget {
  store: ConversationStore;
  /** Releases everything the factory created (store, servers, schemas). */
  dispose(): Promise<void>;
}

let futureYear = 2100 + Math.floor(Math.random() * 100) * 10;
/** A creation time later than anything created before it in this process. */
function future(offsetSeconds = 0): string {
  return new Date(Date.UTC(futureYear, 0, 1, 0, 0, offsetSeconds)).toISOString();
}

export function storeContract(name: string, open: () => Promise<ContractTarget>): void {
  describe(`${name} store contract`, () => {
    let target: ContractTarget;
    let store: ConversationStore;

    beforeAll(async () => {
      target = await open();
      store = target.store;
      await store.init();
    });

    afterAll(async () => {
      await target?.dispose();
    });

    it('returns a created conversation from get with the defaults of a new claim', async () => {
      const conv = newConversation({ channel: 'browser', call_sid: null });
      await store.createConversation(conv);

      const detail = await store.getConversation(conv.id);
      expect(detail).toEqual({
        conversation: {
          ...conv,
          claim_date: null,
          claim_amount: null,
          claim_status: 'Open',
          state: 'initial',
          updated_at: conv.created_at,
          ended_at: null,
          end_reason: null,
          instance_id: null,
          voice: null,
        },
        messages: [],
        transitions: [],
        metrics: null,
      });
    });

    it('treats creating the same conversation id again as a no-op', async () => {
      const conv = newConversation();
      await store.createConversation(conv);
      await store.createConversation(conv);
      const again = await store.getConversation(conv.id);
      expect(again?.conversation.claim_id).toBe(conv.claim_id);
    });

    it('rejects another conversation with a taken claim_id as ClaimIdConflictError', async () => {
      const first = newConversation();
      await store.createConversation(first);
      const second = newConversation({ claim_id: first.claim_id });

      const err = await store.createConversation(second).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(ClaimIdConflictError);
      expect((err as ClaimIdConflictError).claimId).toBe(first.claim_id);
      expect(await store.getConversation(second.id)).toBeNull();
    });

    it('creates several conversations in one call, skipping ids that exist', async () => {
      const existing = newConversation();
      await store.createConversation(existing);
      const fresh = [newConversation(), newConversation({ instance_id: 'inst-batch' })];
      await store.createConversations([existing, ...fresh]);
      for (const c of fresh) {
        expect((await store.getConversation(c.id))?.conversation).toMatchObject({
          claim_id: c.claim_id,
          instance_id: c.instance_id ?? null,
        });
      }
      const taken = newConversation({ claim_id: existing.claim_id });
      await expect(store.createConversations([newConversation(), taken])).rejects.toBeTruthy();
      expect(await store.getConversation(taken.id)).toBeNull();
    });

    it('applies one patch per conversation in one call, touching only the keys each patch carries', async () => {
      const [a, b] = [newConversation(), newConversation()];
      await store.createConversations([a, b]);
      await store.updateConversation(b.id, {
        claim_date: '2026-01-02',
        updated_at: '2030-01-01T00:00:00.000Z',
      });
      await store.updateConversations([
        { id: a.id, patch: { state: 'ongoing', claim_amount: 12.5, updated_at: '2030-01-01T00:00:01.000Z' } },
        { id: b.id, patch: { end_reason: 'completed', updated_at: '2030-01-01T00:00:02.000Z' } },
      ]);
      expect((await store.getConversation(a.id))?.conversation).toMatchObject({
        state: 'ongoing',
        claim_amount: 12.5,
        claim_date: null,
        updated_at: '2030-01-01T00:00:01.000Z',
      });
      expect((await store.getConversation(b.id))?.conversation).toMatchObject({
        state: 'initial',
        claim_date: '2026-01-02',
        end_reason: 'completed',
        updated_at: '2030-01-01T00:00:02.000Z',
      });
    });

    it('applies a patch partially and returns claim_amount as a number and claim_date as YYYY-MM-DD', async () => {
      const conv = newConversation();
      await store.createConversation(conv);
      await store.updateConversation(conv.id, {
        claim_date: '2026-03-14',
        claim_amount: 1234.5,
        state: 'ongoing',
        updated_at: '2026-03-14T10:00:00.000Z',
      });
      await store.updateConversation(conv.id, {
        claim_status: 'Pending',
        state: 'done',
        ended_at: '2026-03-14T10:05:00.000Z',
        end_reason: 'completed',
        updated_at: '2026-03-14T10:05:00.000Z',
      });

      const row = (await store.getConversation(conv.id))?.conversation;
      expect(row).toMatchObject({
        claim_date: '2026-03-14',
        claim_amount: 1234.5,
        claim_status: 'Pending',
        state: 'done',
        ended_at: '2026-03-14T10:05:00.000Z',
        end_reason: 'completed',
        updated_at: '2026-03-14T10:05:00.000Z',
      });
      expect(typeof row?.claim_amount).toBe('number');
    });

    it('keeps cents and large amounts exact within numeric(12,2)', async () => {
      const conv = newConversation();
      await store.createConversation(conv);
      await store.updateConversation(conv.id, {
        claim_amount: 9_999_999_999.99,
        updated_at: new Date().toISOString(),
      });
      expect((await store.getConversation(conv.id))?.conversation.claim_amount).toBe(9_999_999_999.99);
      await store.updateConversation(conv.id, { claim_amount: 0.1, updated_at: new Date().toISOString() });
      expect((await store.getConversation(conv.id))?.conversation.claim_amount).toBe(0.1);
    });

    it('skips transitions whose (conversation_id, actor, seq) already exists, so retries are safe', async () => {
      const conv = newConversation();
      await store.createConversation(conv);
      const rows = [
        transition(conv.id, 0),
        transition(conv.id, 1),
        transition(conv.id, 0, { actor: 'claim' }),
      ];
      await store.appendTransitions(rows);
      await store.appendTransitions([...rows, transition(conv.id, 2)]);
      await store.appendTransitions([transition(conv.id, 1, { event_type: 'changed.on.retry' })]);

      const stored = (await store.getConversation(conv.id))?.transitions ?? [];
      expect(stored).toHaveLength(4);
      expect(stored.find((t) => t.actor === 'call' && t.seq === 1)?.event_type).toBe('user.speech.started');
    });

    it('returns transitions ordered by created_at, then actor, then seq, with json payloads as given', async () => {
      const conv = newConversation();
      await store.createConversation(conv);
      const at = '2030-05-05T05:05:05.000Z';
      const rows = [
        transition(conv.id, 1, { created_at: at, actor: 'claim', state_value: 'ongoing' }),
        transition(conv.id, 0, {
          created_at: at,
          actor: 'claim',
          state_value: { ongoing: 'collectingDate' },
        }),
        transition(conv.id, 5, {
          created_at: at,
          actor: 'call',
          event: { nested: { list: [1, 'two', null] } },
        }),
        transition(conv.id, 0, { created_at: '2030-05-05T05:05:04.000Z', actor: 'call', state_value: null }),
      ];
      await store.appendTransitions(rows);

      const stored = (await store.getConversation(conv.id))?.transitions ?? [];
      expect(stored.map((t) => `${t.actor}:${t.seq}`)).toEqual(['call:0', 'call:5', 'claim:0', 'claim:1']);
      expect(stored).toEqual([rows[3], rows[2], rows[1], rows[0]]);
    });

    it('upserts a message by (conversation_id, seq): an interrupted turn gets its heard_text later', async () => {
      const conv = newConversation();
      await store.createConversation(conv);
      const bot = message(conv.id, 0, { role: 'assistant', text: 'Your claim number is C L M four eight' });
      await store.upsertMessages([bot, message(conv.id, 1)]);
      const heard = { ...bot, heard_text: 'Your claim number is', interrupted: true };
      await store.upsertMessages([heard]);

      const stored = (await store.getConversation(conv.id))?.messages ?? [];
      expect(stored).toEqual([heard, message(conv.id, 1)]);
    });

    it('keeps the last version when one batch carries the same message twice', async () => {
      const conv = newConversation();
      await store.createConversation(conv);
      await store.upsertMessages([
        message(conv.id, 2),
        message(conv.id, 0),
        message(conv.id, 2, { heard_text: 'line' }),
      ]);
      const stored = (await store.getConversation(conv.id))?.messages ?? [];
      expect(stored.map((m) => [m.seq, m.heard_text])).toEqual([
        [0, null],
        [2, 'line'],
      ]);
    });

    it('upserts the single metrics row of a conversation, numbers as numbers', async () => {
      const conv = newConversation();
      await store.createConversation(conv);
      await store.upsertMetrics(metrics(conv.id, { turns: 1 }));
      const latest = metrics(conv.id, {
        turns: 4,
        heard_latency_avg_ms: 950.75,
        prepared_turns_committed: 2,
        prepared_turns_discarded: 3,
        updated_at: '2030-01-01T00:00:00.000Z',
      });
      await store.upsertMetrics(latest);

      expect((await store.getConversation(conv.id))?.metrics).toEqual(latest);
    });

    it('upserts several metrics rows in one call, the last per conversation winning', async () => {
      const [a, b] = [newConversation(), newConversation()];
      await store.createConversations([a, b]);
      await store.upsertMetrics(metrics(a.id, { turns: 1 }));
      await store.upsertMetricsBatch([
        metrics(a.id, { turns: 2 }),
        metrics(b.id, { turns: 7 }),
        metrics(a.id, { turns: 3 }),
      ]);
      expect((await store.getConversation(a.id))?.metrics?.turns).toBe(3);
      expect((await store.getConversation(b.id))?.metrics?.turns).toBe(7);
    });

    it('lists newest first, filtered by state and limited', async () => {
      futureYear += 1;
      const convs = [0, 1, 2, 3].map((i) => newConversation({ created_at: future(i) }));
      for (const c of convs) await store.createConversation(c);
      for (const c of [convs[0], convs[2]]) {
        await store.updateConversation(c!.id, { state: 'done', updated_at: new Date().toISOString() });
      }

      const newest = await store.listConversations({ limit: 3 });
      expect(newest.map((c) => c.id)).toEqual([convs[3]!.id, convs[2]!.id, convs[1]!.id]);

      const done = await store.listConversations({ limit: 2, state: 'done' });
      expect(done.map((c) => c.id)).toEqual([convs[2]!.id, convs[0]!.id]);
      expect(done.every((c) => c.state === 'done')).toBe(true);

      const one = await store.listConversations({ limit: 1, state: 'initial' });
      expect(one.map((c) => c.id)).toEqual([convs[3]!.id]);
    });

    it('pages through conversations with a keyset cursor, from a given instant on', async () => {
      futureYear += 1;
      // Two share an instant, so the cursor must break the tie on id.
      const convs = [0, 1, 1, 2, 3].map((i) => newConversation({ created_at: future(i) }));
      for (const c of convs) await store.createConversation(c);
      const order = [...convs]
        .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id))
        .map((c) => c.id);
      const since = future(0);

      const seen: string[] = [];
      let before: { createdAt: string; id: string } | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await store.listConversations({ limit: 2, since, ...(before ? { before } : {}) });
        seen.push(...page.map((c) => c.id));
        const last = page.at(-1);
        if (page.length < 2 || !last) break;
        before = { createdAt: last.created_at, id: last.id };
      }
      expect(seen).toEqual(order);

      const recent = await store.listConversations({ limit: 10, since: future(2) });
      expect(recent.map((c) => c.id)).toEqual(order.slice(0, 2));
    });

    it('clamps the listing limit to 1..200', async () => {
      expect((await store.listConversations({ limit: 0 })).length).toBeLessThanOrEqual(1);
      expect((await store.listConversations({ limit: 10_000 })).length).toBeLessThanOrEqual(200);
    });

    it('returns null for an unknown id and for a malformed one', async () => {
      expect(await store.getConversation(randomUUID())).toBeNull();
      expect(await store.getConversation('not-a-uuid')).toBeNull();
    });

    it('stores text with NUL and lone surrogates cleaned instead of refusing the call', async () => {
      const conv = newConversation({ call_sid: `CA\u0000${randomUUID()}\ud800`, from_number: '+1\u0000555' });
      await store.createConversation(conv);
      await store.updateConversation(conv.id, {
        end_reason: 'hung\u0000up\udc00',
        updated_at: new Date().toISOString(),
      });
      await store.appendTransitions([
        transition(conv.id, 0, {
          event: { text: 'a\u0000b', list: ['\ud83d', '\ud83d\ude00'], 'k\u0000': 1 },
        }),
      ]);
      await store.upsertMessages([
        message(conv.id, 0, { text: 'hi\u0000 there\udfff', heard_text: '\u0000' }),
      ]);
      await store.upsertMetrics(metrics(conv.id, { stt_provider: 'deep\u0000gram' }));

      const detail = await store.getConversation(conv.id);
      expect(detail?.conversation.call_sid).toBe(
        conv.call_sid?.replace('\u0000', '').replace('\ud800', '\ufffd'),
      );
      expect(detail?.conversation).toMatchObject({ from_number: '+1555', end_reason: 'hungup\ufffd' });
      expect(detail?.transitions[0]?.event).toEqual({ text: 'ab', list: ['\ufffd', '\ud83d\ude00'], k: 1 });
      expect(detail?.messages[0]).toMatchObject({ text: 'hi there\ufffd', heard_text: '' });
      expect(detail?.metrics?.stt_provider).toBe('deepgram');
    });

    it('closes at start-up only the open conversations of the crashed instance', async () => {
      const crashed = `inst-${randomUUID()}`;
      const other = `inst-${randomUUID()}`;
      const open = newConversation({ instance_id: crashed });
      const ended = newConversation({ instance_id: crashed });
      const elsewhere = newConversation({ instance_id: other });
      const anonymous = newConversation();
      // Created after the crashed process's successor started: one of its own live calls.
      const mine = newConversation({ instance_id: crashed, created_at: '2030-01-01T00:03:00.000Z' });
      for (const c of [open, ended, elsewhere, anonymous, mine]) await store.createConversation(c);
      await store.updateConversation(open.id, { state: 'ongoing', updated_at: '2030-01-01T00:00:00.000Z' });
      await store.updateConversation(ended.id, {
        ended_at: '2030-01-01T00:01:00.000Z',
        end_reason: 'completed',
        updated_at: '2030-01-01T00:01:00.000Z',
      });

      const at = '2030-01-01T00:02:00.000Z';
      expect(await store.closeCrashedConversations(crashed, at)).toBe(1);
      expect(await store.closeCrashedConversations(crashed, at)).toBe(0);

      expect((await store.getConversation(open.id))?.conversation).toMatchObject({
        instance_id: crashed,
        state: 'ongoing',
        ended_at: at,
        updated_at: at,
        end_reason: SERVER_CRASHED,
      });
      expect((await store.getConversation(ended.id))?.conversation).toMatchObject({
        end_reason: 'completed',
      });
      for (const c of [elsewhere, anonymous, mine]) {
        expect((await store.getConversation(c.id))?.conversation).toMatchObject({
          ended_at: null,
          end_reason: null,
        });
      }
    });

    it('reserves only claim numbers neither reserved nor used by a conversation', async () => {
      const used = newConversation();
      await store.createConversation(used);
      const [a, b, c] = [claimId(), claimId(), claimId()];
      const first = await store.reserveClaimNumbers([a, b, a, used.claim_id], 'inst-1');
      expect(first.sort()).toEqual([a, b].sort());
      // Reserved by another instance already, or now: only the new one is granted.
      expect(await store.reserveClaimNumbers([a, c], 'inst-2')).toEqual([c]);
      expect(await store.reserveClaimNumbers([], 'inst-2')).toEqual([]);
    });

    it('answers ping once initialized', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('initializes again as a no-op', async () => {
      const conv = newConversation();
      await store.createConversation(conv);
      await store.init();
      expect(await store.getConversation(conv.id)).not.toBeNull();
    });
  });
}
