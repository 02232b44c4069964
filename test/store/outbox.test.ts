import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createOutbox, type Outbox, type OutboxOptions } from '../../src/store/outbox.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import type { ConversationStore, TransitionRow } from '../../src/store/types.js';
import { message, metrics, newConversation, recordingStore, transition, waitFor } from './fixtures.js';

/** Fast timings so retry and journal paths run in milliseconds. */
const FAST = {
  flushIntervalMs: 5,
  initialBackoffMs: 1,
  maxBackoffMs: 20,
  maxAttempts: 3,
  closeTimeoutMs: 200,
};

let db: ConversationStore;
let dir: string;
let journalPath: string;
const open: Outbox[] = [];
/** Where the suite being run keeps the journal's file work (the server uses the worker). */
let journalIn: OutboxOptions['journalIn'] = 'thread';

function outbox(store: ConversationStore, over: Partial<OutboxOptions> = {}): Outbox {
  const o = createOutbox({ store, journalPath, journalIn, ...FAST, ...over });
  open.push(o);
  return o;
}

async function journalLines(): Promise<string[]> {
  const text = await readFile(journalPath, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '');
}

beforeAll(async () => {
  db = createSqlStore({ kind: 'pglite' });
  await db.init();
});

afterAll(async () => {
  await db.close();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'statecall-outbox-'));
  journalPath = join(dir, 'outbox.jsonl');
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
  await rm(dir, { recursive: true, force: true });
});

describe.each(['thread', 'worker'] as const)('outbox (journal file work in a %s)', (mode) => {
  beforeAll(() => {
    journalIn = mode;
  });

  it('returns from enqueue before touching the store', async () => {
    const { store, calls } = recordingStore();
    const box = outbox(store);
    await box.start();
    box.enqueue({ type: 'createConversation', row: newConversation() });
    expect(calls).toHaveLength(0);
    expect(box.stats().pending).toBe(1);
    await box.flush();
    expect(calls).toHaveLength(1);
    expect(box.stats()).toMatchObject({ pending: 0, written: 1 });
  });

  it('writes a batch with its conversation rows first and every table in enqueue order', async () => {
    const rec = recordingStore(db);
    const box = outbox(rec.store);
    await box.start();
    const a = newConversation();
    const b = newConversation();
    box.enqueue({ type: 'createConversation', row: a });
    box.enqueue({ type: 'appendTransitions', rows: [transition(a.id, 0)] });
    box.enqueue({ type: 'createConversation', row: b });
    box.enqueue({ type: 'appendTransitions', rows: [transition(b.id, 0)] });
    box.enqueue({
      type: 'updateConversation',
      id: a.id,
      patch: { state: 'ongoing', updated_at: new Date().toISOString() },
    });
    box.enqueue({ type: 'appendTransitions', rows: [transition(a.id, 1)] });
    await box.flush();

    // One batch: both inserts first (one statement), then the update, then the transitions.
    expect(rec.calls.map((c) => c.method)).toEqual([
      'createConversations',
      'updateConversation',
      'appendTransitions',
    ]);
    const rows = rec.calls[2]?.args[0] as TransitionRow[];
    expect(rows.map((t) => `${t.conversation_id === a.id ? 'a' : 'b'}${t.seq}`)).toEqual(['a0', 'b0', 'a1']);
    expect((await db.getConversation(a.id))?.transitions).toHaveLength(2);
    expect((await db.getConversation(a.id))?.conversation.state).toBe('ongoing');
  });

  it('coalesces creates, transitions, messages and metrics into one write per table', async () => {
    const rec = recordingStore(db);
    const box = outbox(rec.store, { flushIntervalMs: 1_000 });
    await box.start();
    const a = newConversation();
    const b = newConversation();
    box.enqueue({ type: 'createConversation', row: a });
    box.enqueue({ type: 'createConversation', row: b });
    for (let i = 0; i < 10; i++) {
      box.enqueue({ type: 'appendTransitions', rows: [transition(i % 2 ? a.id : b.id, i)] });
      if (i % 3 === 0) box.enqueue({ type: 'upsertMessages', rows: [message(a.id, i)] });
    }
    box.enqueue({ type: 'upsertMetrics', row: metrics(a.id, { turns: 1 }) });
    box.enqueue({ type: 'upsertMetrics', row: metrics(a.id, { turns: 2 }) });
    await box.flush();

    expect(rec.calls.map((c) => c.method)).toEqual([
      'createConversations',
      'appendTransitions',
      'upsertMessages',
      'upsertMetrics',
    ]);
    const batch = rec.calls[1]?.args[0] as TransitionRow[];
    expect(batch.map((t) => t.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await db.getConversation(a.id))?.metrics?.turns).toBe(2);
  });

  it('merges the updates of one conversation in order, the last value of each field winning', async () => {
    const rec = recordingStore(db);
    const box = outbox(rec.store, { flushIntervalMs: 1_000 });
    await box.start();
    const [a, b] = [newConversation(), newConversation()];
    box.enqueue({ type: 'createConversation', row: a });
    box.enqueue({ type: 'createConversation', row: b });
    box.enqueue({
      type: 'updateConversation',
      id: a.id,
      patch: { state: 'ongoing', updated_at: '2030-01-01T00:00:01.000Z' },
    });
    box.enqueue({
      type: 'updateConversation',
      id: b.id,
      patch: { claim_amount: 5, updated_at: '2030-01-01T00:00:02.000Z' },
    });
    box.enqueue({
      type: 'updateConversation',
      id: a.id,
      patch: { claim_date: '2026-03-03', state: 'done', updated_at: '2030-01-01T00:00:03.000Z' },
    });
    await box.flush();

    expect(rec.calls.map((c) => c.method)).toEqual(['createConversations', 'updateConversations']);
    expect(rec.calls[1]?.args[0]).toEqual([
      {
        id: a.id,
        patch: { state: 'done', claim_date: '2026-03-03', updated_at: '2030-01-01T00:00:03.000Z' },
      },
      { id: b.id, patch: { claim_amount: 5, updated_at: '2030-01-01T00:00:02.000Z' } },
    ]);
    expect((await db.getConversation(a.id))?.conversation).toMatchObject({
      state: 'done',
      claim_date: '2026-03-03',
    });
    expect((await db.getConversation(b.id))?.conversation.claim_amount).toBe(5);
  });

  it('exposes its depth: pending ops and the age of the oldest one', async () => {
    const rec = recordingStore(db);
    rec.controls.hang = true;
    const box = outbox(rec.store);
    await box.start();
    expect(box.stats()).toMatchObject({ pending: 0, oldestPendingMs: 0 });
    box.enqueue({ type: 'createConversation', row: newConversation() });
    box.enqueue({ type: 'createConversation', row: newConversation() });
    await new Promise((r) => setTimeout(r, 30));
    expect(box.stats().pending).toBe(2);
    expect(box.stats().oldestPendingMs).toBeGreaterThan(0);
  });

  it('splits batches at batchSize rows', async () => {
    const rec = recordingStore(db);
    const box = outbox(rec.store, { batchSize: 4, flushIntervalMs: 1_000 });
    await box.start();
    const a = newConversation();
    box.enqueue({ type: 'createConversation', row: a });
    for (let i = 0; i < 10; i++) box.enqueue({ type: 'appendTransitions', rows: [transition(a.id, i)] });
    await box.flush();
    const sizes = rec.calls
      .filter((c) => c.method === 'appendTransitions')
      .map((c) => (c.args[0] as unknown[]).length);
    // The conversation insert counts as one row of the first batch.
    expect(sizes).toEqual([3, 4, 3]);
  });

  it('retries a store that fails a few times, then writes everything exactly once', async () => {
    const rec = recordingStore(db);
    rec.controls.failuresLeft = 2;
    // A pino logger plugs straight in (type check of the logger interface).
    const box = outbox(rec.store, { maxAttempts: 5, logger: pino({ level: 'silent' }) });
    await box.start();
    const a = newConversation();
    box.enqueue({ type: 'createConversation', row: a });
    box.enqueue({ type: 'appendTransitions', rows: [transition(a.id, 0), transition(a.id, 1)] });
    await box.flush();

    expect(box.stats()).toMatchObject({
      pending: 0,
      written: 2,
      retries: 2,
      journaled: 2,
      journalPending: 0,
    });
    expect((await db.getConversation(a.id))?.transitions).toHaveLength(2);
  });

  it('journals pending ops when the store stays down, and the next start replays them without duplicates', async () => {
    const down = recordingStore(db);
    down.controls.down = true;
    const first = outbox(down.store);
    await first.start();
    const a = newConversation();
    // Already written once (e.g. a write whose acknowledgement was lost): replay must not duplicate it.
    await db.createConversation(a);
    await db.appendTransitions([transition(a.id, 0)]);
    first.enqueue({ type: 'createConversation', row: a });
    first.enqueue({ type: 'appendTransitions', rows: [transition(a.id, 0), transition(a.id, 1)] });
    first.enqueue({ type: 'upsertMessages', rows: [message(a.id, 0)] });
    await first.flush();

    expect(first.stats()).toMatchObject({ pending: 0, written: 0, journaled: 3, degraded: true });
    expect(await journalLines()).toHaveLength(3);
    await first.close();

    const second = outbox(db);
    await second.start();
    expect(second.stats()).toMatchObject({ written: 3, journalPending: 0, degraded: false });
    expect(await journalLines()).toHaveLength(0);
    const detail = await db.getConversation(a.id);
    expect(detail?.transitions.map((t) => t.seq)).toEqual([0, 1]);
    expect(detail?.messages).toHaveLength(1);

    const third = outbox(db);
    await third.start();
    expect(third.stats().written).toBe(0);
  });

  it('keeps ops enqueued while degraded behind the journal and drains both, in order, when the store returns', async () => {
    const rec = recordingStore(db);
    rec.controls.down = true;
    const box = outbox(rec.store);
    await box.start();
    const a = newConversation();
    box.enqueue({ type: 'createConversation', row: a });
    await box.flush();
    expect(box.stats().degraded).toBe(true);

    // The transitions reference a conversation that only exists in the journal so far.
    box.enqueue({ type: 'appendTransitions', rows: [transition(a.id, 0)] });
    await box.flush();
    expect(await journalLines()).toHaveLength(2);

    rec.controls.down = false;
    await waitFor(() => !box.stats().degraded);
    box.enqueue({ type: 'appendTransitions', rows: [transition(a.id, 1)] });
    await box.flush();

    expect(rec.calls.map((c) => c.method)).toEqual([
      'createConversation',
      'appendTransitions',
      'appendTransitions',
    ]);
    expect((await db.getConversation(a.id))?.transitions).toHaveLength(2);
    expect(box.stats()).toMatchObject({ pending: 0, written: 3, journalPending: 0, dropped: 0 });
  });

  it('writes what is pending on close', async () => {
    const box = outbox(db, { flushIntervalMs: 60_000 });
    await box.start();
    const a = newConversation();
    box.enqueue({ type: 'createConversation', row: a });
    box.enqueue({ type: 'upsertMetrics', row: metrics(a.id) });
    await box.close();
    expect((await db.getConversation(a.id))?.metrics?.turns).toBe(3);
    expect(await journalLines()).toHaveLength(0);
  });

  it('journals on close, within closeTimeoutMs, when the store hangs', async () => {
    const rec = recordingStore(db);
    rec.controls.hang = true;
    const box = outbox(rec.store, { closeTimeoutMs: 50 });
    await box.start();
    box.enqueue({ type: 'createConversation', row: newConversation() });
    const started = Date.now();
    await box.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await journalLines()).toHaveLength(1);
    // After close, writes still land in the journal rather than being lost.
    box.enqueue({ type: 'createConversation', row: newConversation() });
    expect(await journalLines()).toHaveLength(2);
  });

  it('isolates an op the database refuses, records it as rejected, and writes the rest of its batch', async () => {
    const box = outbox(db, { flushIntervalMs: 1_000 });
    await box.start();
    const a = newConversation();
    await db.createConversation(a);
    const orphan = newConversation(); // never created: its transitions violate the foreign key
    box.enqueue({ type: 'appendTransitions', rows: [transition(a.id, 0)] });
    box.enqueue({ type: 'appendTransitions', rows: [transition(orphan.id, 0)] });
    box.enqueue({ type: 'appendTransitions', rows: [transition(a.id, 1)] });
    await box.flush();

    expect((await db.getConversation(a.id))?.transitions).toHaveLength(2);
    expect(box.stats()).toMatchObject({ dropped: 1, written: 2, pending: 0 });
    const rejected = (await readFile(join(dir, 'outbox.rejected.jsonl'), 'utf8')).trim().split('\n');
    expect(rejected).toHaveLength(1);
    expect(JSON.parse(rejected[0] ?? '{}').op.rows[0].conversation_id).toBe(orphan.id);
  });

  it('skips a torn last journal line from a crash and replays the rest', async () => {
    const a = newConversation();
    await writeFile(
      journalPath,
      JSON.stringify({ type: 'createConversation', row: a }) + '\n{"type":"appendTr',
    );
    const box = outbox(db);
    await box.start();
    expect(await db.getConversation(a.id)).not.toBeNull();
    expect(await journalLines()).toHaveLength(0);
  });

  it('journals every accepted op before its first attempt, with one sync per group of ops', async () => {
    const rec = recordingStore(db);
    rec.controls.hang = true; // the very first attempt never returns (TCP blackhole)
    const box = outbox(rec.store);
    await box.start();
    const a = newConversation();
    box.enqueue({ type: 'createConversation', row: a });
    for (let i = 0; i < 5; i++) box.enqueue({ type: 'appendTransitions', rows: [transition(a.id, i)] });
    await waitFor(() => box.stats().journaled === 6);
    expect(box.stats().journalSyncs).toBe(1);
    expect(await journalLines()).toHaveLength(6);
  });

  it('lets ops accepted within the group window share one journal append', async () => {
    const rec = recordingStore(db);
    rec.controls.hang = true; // nothing leaves the journal stage for the store
    const box = outbox(rec.store, { journalGroupMs: 60_000 });
    await box.start();
    const a = newConversation();
    box.enqueue({ type: 'createConversation', row: a });
    await new Promise((r) => setTimeout(r, 5)); // a later tick, well inside the window
    box.enqueue({ type: 'appendTransitions', rows: [transition(a.id, 0)] });
    expect(box.stats()).toMatchObject({ journaled: 0, pending: 2 });
    void box.flush(); // a flush does not wait for the window
    await waitFor(() => box.stats().journaled === 2);
    expect(box.stats().journalSyncs).toBe(1);
    expect(await journalLines()).toHaveLength(2);
  });

  it('loses nothing when the process dies while the store hangs: a new outbox replays all, in order, once', async () => {
    const rec = recordingStore(db);
    const crashed = createOutbox({ store: rec.store, journalPath, journalIn, ...FAST });
    await crashed.start();
    const a = newConversation();
    crashed.enqueue({ type: 'createConversation', row: a });
    crashed.enqueue({ type: 'appendTransitions', rows: [transition(a.id, 0)] });
    await crashed.flush(); // written: the journal no longer needs them
    rec.controls.hang = true;
    crashed.enqueue({
      type: 'updateConversation',
      id: a.id,
      patch: { claim_date: '2026-03-03', updated_at: '2030-01-01T00:00:01.000Z' },
    });
    crashed.enqueue({ type: 'appendTransitions', rows: [transition(a.id, 1), transition(a.id, 2)] });
    crashed.enqueue({
      type: 'updateConversation',
      id: a.id,
      patch: { claim_amount: 99, updated_at: '2030-01-01T00:00:02.000Z' },
    });
    crashed.enqueue({ type: 'upsertMessages', rows: [message(a.id, 0)] });
    await waitFor(() => crashed.stats().journaled === 6);
    // kill -9: the object is dropped, never closed; its hanging attempt never returns.

    const after = recordingStore(db);
    const box = outbox(after.store);
    await box.start();

    expect(after.calls.map((c) => c.method)).toEqual([
      'updateConversation',
      'appendTransitions',
      'upsertMessages',
    ]);
    expect(after.calls[0]?.args[1]).toEqual({
      claim_date: '2026-03-03',
      claim_amount: 99,
      updated_at: '2030-01-01T00:00:02.000Z',
    });
    const detail = await db.getConversation(a.id);
    expect(detail?.conversation).toMatchObject({ claim_date: '2026-03-03', claim_amount: 99 });
    expect(detail?.transitions.map((t) => t.seq)).toEqual([0, 1, 2]);
    expect(detail?.messages).toHaveLength(1);
    expect(box.stats()).toMatchObject({ written: 4, journalPending: 0, degraded: false });
    expect(await journalLines()).toHaveLength(0);
  });

  it('replays a journal in the format before progress marks (one bare op per line)', async () => {
    const a = newConversation();
    await writeFile(
      journalPath,
      [
        { type: 'createConversation', row: a },
        { type: 'appendTransitions', rows: [transition(a.id, 0)] },
      ]
        .map((op) => JSON.stringify(op))
        .join('\n') + '\n',
    );
    const box = outbox(db);
    await box.start();
    expect((await db.getConversation(a.id))?.transitions).toHaveLength(1);
  });
});
