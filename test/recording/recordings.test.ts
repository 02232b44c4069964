/**
 * The recordings directory: one file per conversation id, nothing for ids that are not UUIDs, and
 * a retention sweep that deletes only old recordings.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRecordings } from '../../src/recording/recordings.js';
import { parseWav } from '../support/wav.js';

const silent = { info() {}, warn() {} };
const ID = '6f1c1e2a-4b7d-4c3e-9a55-0d1b2c3d4e5f';
const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-rec-')), 'recordings');

describe('the recordings directory', () => {
  it('records a conversation into <dir>/<id>.wav and finds it again', async () => {
    const rec = createRecordings({ dir: tmp(), logger: silent });
    expect(await rec.find(ID)).toBeNull();
    const r = rec.open(ID)!;
    r.callerAudio(new Uint8Array(1600).fill(0x80));
    await rec.stop(); // closes recordings still open
    const file = await rec.find(ID);
    expect(file).toBe(path.join(rec.dir, `${ID}.wav`));
    expect(parseWav(fs.readFileSync(file!)).left).toHaveLength(1600);
  });

  it('refuses ids that are not conversation ids (no path outside the directory)', async () => {
    const rec = createRecordings({ dir: tmp(), logger: silent });
    expect(rec.open('../../etc/passwd')).toBeNull();
    expect(await rec.find('../x')).toBeNull();
    expect(fs.existsSync(rec.dir)).toBe(false);
  });

  it('deletes recordings older than the retention period and keeps the rest and other files', async () => {
    const dir = tmp();
    fs.mkdirSync(dir, { recursive: true });
    const old = path.join(dir, `${ID}.wav`);
    const recent = path.join(dir, '7f1c1e2a-4b7d-4c3e-9a55-0d1b2c3d4e5f.wav');
    const other = path.join(dir, 'notes.wav');
    for (const f of [old, recent, other]) fs.writeFileSync(f, 'x');
    const now = Date.now();
    const tenDaysAgo = new Date(now - 10 * 86_400_000);
    fs.utimesSync(old, tenDaysAgo, tenDaysAgo);
    fs.utimesSync(other, tenDaysAgo, tenDaysAgo);
    const rec = createRecordings({ dir, retentionDays: 7, logger: silent });
    expect(await rec.sweep(now)).toBe(1);
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(recent)).toBe(true);
    expect(fs.existsSync(other)).toBe(true);
  });

  it('keeps everything without a retention period, and sweeps a missing directory quietly', async () => {
    const warnings: string[] = [];
    const rec = createRecordings({
      dir: tmp(),
      retentionDays: 0,
      logger: { ...silent, warn: (_o, m) => warnings.push(m ?? '') },
    });
    expect(await rec.sweep()).toBe(0);
    const swept = createRecordings({
      dir: tmp(),
      retentionDays: 3,
      logger: { ...silent, warn: (_o, m) => warnings.push(m ?? '') },
    });
    expect(await swept.sweep()).toBe(0);
    expect(warnings).toEqual([]);
  });
});
