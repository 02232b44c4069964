/**
 * The outbox journal's file (journal-file.ts), in this thread and through its worker thread
 * (journal-worker-client.ts): the same lines in the same order, and file-system errors that
 * reach the caller without breaking the next call.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJournalFile, type JournalFile } from '../../src/store/journal-file.js';
import { openJournalWorker } from '../../src/store/journal-worker-client.js';

const OPENERS = {
  thread: (path: string) => createJournalFile(path, { fsync: true }),
  worker: (path: string) => openJournalWorker(path, { fsync: true }),
};

describe.each(Object.keys(OPENERS) as (keyof typeof OPENERS)[])('the outbox journal file (%s)', (mode) => {
  let dir: string;
  let journal: JournalFile | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'statecall-journal-'));
  });
  afterEach(async () => {
    await journal?.close();
    await rm(dir, { recursive: true, force: true });
  });
  const lines = async (path: string) => (await readFile(path, 'utf8')).split('\n').filter(Boolean);

  it('appends groups, marks and truncations in the order asked, creating its directory', async () => {
    const path = join(dir, 'nested', 'outbox.jsonl');
    journal = OPENERS[mode](path);
    const op = { type: 'upsertMessages', rows: [{ text: 'it was on March "third"\n' }] };
    await Promise.all([
      journal.append([
        { n: 1, op },
        { n: 2, op },
      ]),
      journal.mark(1),
      journal.append([{ n: 3, op }]),
    ]);
    expect((await lines(path)).map((l) => JSON.parse(l) as unknown)).toEqual([
      { n: 1, op },
      { n: 2, op },
      { w: 1 },
      { n: 3, op },
    ]);
    await journal.truncate();
    expect(await readFile(path, 'utf8')).toBe('');
    await journal.append([{ n: 4, op }]);
    expect(await lines(path)).toEqual([JSON.stringify({ n: 4, op })]);
  });

  it('truncates a journal a previous run left before appending anything', async () => {
    const path = join(dir, 'outbox.jsonl');
    await writeFile(path, '{"n":1,"op":{}}\n');
    journal = OPENERS[mode](path);
    await journal.truncate();
    expect(await readFile(path, 'utf8')).toBe('');
  });

  it('rejects with the file system error code when it cannot write, and writes once it can', async () => {
    // A file where the journal's directory should be (permissions would not stop root).
    await writeFile(join(dir, 'blocked'), '');
    journal = OPENERS[mode](join(dir, 'blocked', 'outbox.jsonl'));
    await expect(journal.append([{ n: 1, op: {} }])).rejects.toMatchObject({ code: 'EEXIST' });
    await rm(join(dir, 'blocked'));
    await journal.append([{ n: 2, op: {} }]);
    expect(await lines(join(dir, 'blocked', 'outbox.jsonl'))).toEqual(['{"n":2,"op":{}}']);
  });
});
