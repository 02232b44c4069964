/**
 * One refused value must never lose a call's other rows: the outbox against real databases
 * (PGlite always, PostgreSQL when TEST_DATABASE_URL is set).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createOutbox, type Outbox } from '../../src/store/outbox.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import type { ConversationStore } from '../../src/store/types.js';
import { describeWhen } from '../support/describe-when.js';
import { message, newConversation, transition } from './fixtures.js';

const url = process.env.TEST_DATABASE_URL;
const FAST = {
  flushIntervalMs: 1_000,
  initialBackoffMs: 1,
  maxBackoffMs: 20,
  maxAttempts: 3,
  closeTimeoutMs: 500,
};

function salvageSuite(
  name: string,
  open: () => Promise<{ store: ConversationStore; dispose(): Promise<void> }>,
) {
  describe(`outbox salvage on ${name}`, () => {
    let store: ConversationStore;
    let dispose: () => Promise<void>;
    let dir: string;
    let box: Outbox;

    beforeAll(async () => {
      ({ store, dispose } = await open());
      await store.init();
    });
    afterAll(() => dispose());
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'statecall-salvage-'));
      box = createOutbox({ store, journalPath: join(dir, 'outbox.jsonl'), ...FAST });
      await box.start();
    });
    afterEach(async () => {
      await box.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('keeps a whole call whose callSid carries NUL and a lone surrogate', async () => {
      const conv = newConversation({ call_sid: `CA\u0000${randomBytes(8).toString('hex')}\ud800` });
      box.enqueue({ type: 'createConversation', row: conv });
      box.enqueue({ type: 'appendTransitions', rows: [transition(conv.id, 0), transition(conv.id, 1)] });
      box.enqueue({ type: 'upsertMessages', rows: [message(conv.id, 0, { text: 'march\u0000 third' })] });
      await box.flush();
      const detail = await store.getConversation(conv.id);
      expect(detail?.conversation.call_sid).toMatch(/^CA[0-9a-f]{16}\ufffd$/);
      expect(detail?.transitions).toHaveLength(2);
      expect(detail?.messages[0]?.text).toBe('march third');
      expect(box.stats()).toMatchObject({ dropped: 0, pending: 0 });
    });

    it('stores a conversation whose claim_id is taken under a suffixed claim id, with its later rows', async () => {
      const taken = newConversation();
      await store.createConversation(taken);
      const conv = newConversation({ claim_id: taken.claim_id });
      box.enqueue({ type: 'createConversation', row: conv });
      box.enqueue({ type: 'appendTransitions', rows: [transition(conv.id, 0)] });
      await box.flush();
      const detail = await store.getConversation(conv.id);
      expect(detail?.conversation.claim_id).toBe(`${taken.claim_id}-2`);
      expect(detail?.transitions).toHaveLength(1);
      expect(box.stats().dropped).toBe(0);
    });

    it('stores a refused conversation row minimal (here: a callSid already used), and the call with it', async () => {
      const first = newConversation();
      await store.createConversation(first);
      const conv = newConversation({ call_sid: first.call_sid });
      box.enqueue({ type: 'createConversation', row: conv });
      box.enqueue({ type: 'upsertMessages', rows: [message(conv.id, 0)] });
      await box.flush();
      const detail = await store.getConversation(conv.id);
      expect(detail?.conversation).toMatchObject({ call_sid: null, claim_id: conv.claim_id });
      expect(detail?.messages).toHaveLength(1);
    });

    it('loses only the refused field of an update, and records it as rejected', async () => {
      const conv = newConversation();
      box.enqueue({ type: 'createConversation', row: conv });
      box.enqueue({
        type: 'updateConversation',
        id: conv.id,
        patch: { state: 'done', claim_amount: 1e13, updated_at: '2030-01-01T00:00:00.000Z' },
      });
      await box.flush();
      expect((await store.getConversation(conv.id))?.conversation).toMatchObject({
        state: 'done',
        claim_amount: null,
      });
      const rejected = (await readFile(join(dir, 'outbox.rejected.jsonl'), 'utf8')).trim().split('\n');
      expect(rejected.map((l) => (JSON.parse(l) as { op: { patch: object } }).op.patch)).toEqual([
        { claim_amount: 1e13, updated_at: '2030-01-01T00:00:00.000Z' },
      ]);
    });
  });
}

salvageSuite('PGlite', async () => {
  const store = createSqlStore({ kind: 'pglite' });
  return { store, dispose: () => store.close() };
});

describeWhen(
  'test/store',
  'outbox salvage on PostgreSQL',
  url ? null : 'TEST_DATABASE_URL not set (e.g. postgres://postgres@127.0.0.1:5432/test)',
  () => {
    salvageSuite('PostgreSQL', async () => {
      const schema = `statecall_test_${randomBytes(6).toString('hex')}`;
      const store = createSqlStore({ kind: 'postgres', connectionString: url!, schema });
      return {
        store,
        dispose: async () => {
          await store.close();
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query(`drop schema if exists "${schema}" cascade`);
          await client.end();
        },
      };
    });
  },
);
