import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDotEnv } from '../../src/load-dotenv.js';

describe('.env loading', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'statecall-env-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads .env from the working directory without overriding variables already set', async () => {
    await writeFile(join(dir, '.env'), 'PORT=3941\nDATA_DIR=./other\n# a comment\nQUOTED="a b"\n');
    const env: NodeJS.ProcessEnv = { DATA_DIR: './from-shell' };
    expect(loadDotEnv(dir, env).sort()).toEqual(['PORT', 'QUOTED']);
    expect(env).toEqual({ PORT: '3941', DATA_DIR: './from-shell', QUOTED: 'a b' });
  });

  it('does nothing without a .env file', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(loadDotEnv(dir, env)).toEqual([]);
    expect(env).toEqual({});
  });
});
