/**
 * An exclusive lock on DATA_DIR for the lifetime of the process that opens it: two processes on
 * one PGlite directory corrupt it, and two outboxes on one journal would replay each other's ops.
 *
 * The lock is a file, `<DATA_DIR>/statecall.lock`, created with O_EXCL and holding who owns it
 * (pid, host, since, port once known). A second opener refuses with a {@link DataDirLockedError}
 * that names the holder and what to do. A lock left by a process that died (kill -9, power loss)
 * is taken over automatically when its pid is dead on this host; nothing in DATA_DIR is ever
 * deleted except the lock file itself. Synchronous on purpose: it runs once at start-up, before
 * anything else touches the folder.
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/** File name of the lock inside DATA_DIR. */
export const LOCK_FILE = 'statecall.lock';

/** What the lock file records about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** HTTP port of the holder's server, once it listens. */
  port?: number;
  /** What holds it, e.g. `server`. */
  purpose?: string;
}

/** A held lock. `release()` is idempotent and also runs at process exit. */
export interface DataDirLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Records the server's port in the lock (so a refused opener can point to it). */
  setPort(port: number): void;
  release(): void;
}

/** DATA_DIR is held by another live process. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder | null,
  ) {
    super(describeRefusal(dataDir, holder));
    this.name = 'DataDirLockedError';
  }
}

function describeRefusal(dataDir: string, h: LockHolder | null): string {
  const who = h
    ? `process ${h.pid} on ${h.host} (since ${h.since}${h.port ? `, serving http://localhost:${h.port}` : ''})`
    : 'another process (its lock file is being written)';
  const chat = h?.port ? `PORT=${h.port} npm run chat` : "`npm run chat` with that server's PORT";
  return (
    `DATA_DIR ${dataDir} is in use by ${who}. Two processes on one data folder corrupt its database. ` +
    `Stop that process, or set DATA_DIR to another folder, or talk to the running server with ${chat}. ` +
    `(If you are sure no such process runs, delete ${join(dataDir, LOCK_FILE)}.)`
  );
}

/** True when `pid` is a live process here (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    return typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.since === 'string'
      ? (h as LockHolder)
      : null;
  } catch {
    return null;
  }
}

/** A lock file nobody could have finished writing for this long is a crash leftover. */
const TORN_LOCK_MS = 10_000;

function isStale(path: string, h: LockHolder | null): boolean {
  if (h) return h.host === hostname() && h.pid !== process.pid && !alive(h.pid);
  try {
    return Date.now() - statSync(path).mtimeMs > TORN_LOCK_MS;
  } catch {
    return true; // gone meanwhile
  }
}

function writeExclusive(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(holder) + '\n');
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes the lock on `dataDir` (created if missing) or throws {@link DataDirLockedError}.
 * @param opts.onTakeover called when a dead process's lock was taken over (for a log line).
 */
export function lockDataDir(
  dataDir: string,
  opts: { purpose?: string; onTakeover?: (previous: LockHolder | null) => void } = {},
): DataDirLock {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    ...(opts.purpose ? { purpose: opts.purpose } : {}),
  };
  for (let attempt = 0; ; attempt++) {
    if (writeExclusive(path, holder)) break;
    const current = readHolder(path);
    if (attempt >= 3 || !isStale(path, current)) throw new DataDirLockedError(dir, current);
    // Re-read right before removing: only the stale file we judged goes, never a new holder's.
    const again = readHolder(path);
    if (JSON.stringify(again) !== JSON.stringify(current)) continue;
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    opts.onTakeover?.(current);
  }

  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    // Only our own lock: never remove one another process took over meanwhile.
    if (readHolder(path)?.pid === holder.pid && readHolder(path)?.since === holder.since) {
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', release);
  return {
    path,
    holder,
    setPort(port) {
      if (released) return;
      holder.port = port;
      const tmp = `${path}.${process.pid}.tmp`;
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, JSON.stringify(holder) + '\n');
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    },
    release,
  };
}

/** Who holds `dataDir`'s lock now, if anyone alive does (for `npm run chat` to find the server). */
export function lockHolderOf(dataDir: string): LockHolder | null {
  const path = join(resolve(dataDir), LOCK_FILE);
  const h = readHolder(path);
  return h && !isStale(path, h) ? h : null;
}
