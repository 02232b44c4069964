import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INSTANCE_ID_FILE, resolveInstanceId } from '../../src/store/instance-id.js';

describe('instance id', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'statecall-instance-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('uses INSTANCE_ID when set, without writing anything to DATA_DIR', async () => {
    expect(resolveInstanceId({ configured: '  eu-west-1a  ', dataDir: dir })).toBe('eu-west-1a');
    await expect(readFile(join(dir, INSTANCE_ID_FILE), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('generates an id once and returns the same one after a restart', () => {
    const first = resolveInstanceId({ dataDir: dir });
    expect(first).toMatch(/-[0-9a-f]{8}$/);
    expect(resolveInstanceId({ configured: '', dataDir: dir })).toBe(first);
  });

  it('gives two data directories two different ids', async () => {
    const other = await mkdtemp(join(tmpdir(), 'statecall-instance-'));
    try {
      expect(resolveInstanceId({ dataDir: other })).not.toBe(resolveInstanceId({ dataDir: dir }));
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('replaces an empty id file (a torn write) with a fresh id', async () => {
    await writeFile(join(dir, INSTANCE_ID_FILE), '\n');
    const id = resolveInstanceId({ dataDir: dir });
    expect(id).not.toBe('');
    expect((await readFile(join(dir, INSTANCE_ID_FILE), 'utf8')).trim()).toBe(id);
  });
});
