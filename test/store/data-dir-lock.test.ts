import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer } from '../../src/http/start-server.js';
import {
  DataDirLockedError,
  LOCK_FILE,
  lockDataDir,
  lockHolderOf,
  type LockHolder,
} from '../../src/store/data-dir-lock.js';

const holderScript = fileURLToPath(new URL('./hold-data-dir-lock.ts', import.meta.url));

/** Starts a process that holds the lock on `dir`; resolves once it does. */
function holdInChild(dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', holderScript, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (String(d).includes('locked')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
}

describe('DATA_DIR lock', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'statecall-lock-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second opener while another process holds it, naming the holder and what to do', async () => {
    const child = await holdInChild(dir);
    children.push(child);

    const err = (() => {
      try {
        lockDataDir(dir);
      } catch (e) {
        return e;
      }
      return null;
    })();

    expect(err).toBeInstanceOf(DataDirLockedError);
    const { holder, message } = err as DataDirLockedError;
    expect(holder).toMatchObject({ pid: child.pid, host: hostname(), port: 4321 });
    expect(message).toContain(`process ${child.pid} on ${hostname()}`);
    expect(message).toContain('http://localhost:4321');
    expect(message).toMatch(/set DATA_DIR to another folder/);
    expect(message).toContain('PORT=4321 npm run chat');
    expect(lockHolderOf(dir)?.pid).toBe(child.pid);
  });

  it('takes over the lock of a process killed with kill -9, and leaves the data alone', async () => {
    await mkdir(join(dir, 'pglite'));
    await writeFile(join(dir, 'pglite', 'PG_VERSION'), '17\n');
    await writeFile(join(dir, 'outbox-journal.jsonl'), '{"n":1,"op":{}}\n');
    const child = await holdInChild(dir);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(lockHolderOf(dir)).toBeNull(); // a dead holder holds nothing

    const previous: (LockHolder | null)[] = [];
    const lock = lockDataDir(dir, { onTakeover: (h) => previous.push(h) });
    try {
      expect(previous.map((h) => h?.pid)).toEqual([child.pid]);
      expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
      expect(await readFile(join(dir, 'pglite', 'PG_VERSION'), 'utf8')).toBe('17\n');
      expect(await readFile(join(dir, 'outbox-journal.jsonl'), 'utf8')).toBe('{"n":1,"op":{}}\n');
    } finally {
      lock.release();
    }
  });

  it('makes a second server on the same DATA_DIR refuse to start, before it opens the database', async () => {
    const child = await holdInChild(dir);
    children.push(child);
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir });
    await expect(startServer(config, createLogger('silent', { pretty: false }))).rejects.toThrow(
      DataDirLockedError,
    );
    expect(existsSync(join(dir, 'pglite'))).toBe(false);
  });

  it('refuses a second lock in the same process and frees the folder on release', () => {
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    lockDataDir(dir).release();
  });
});
