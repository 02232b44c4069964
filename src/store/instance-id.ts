/**
 * The identity of this server instance, stored on each conversation (`conversations.instance_id`)
 * so that after a crash the instance closes its own open calls and never another instance's.
 *
 * It must outlive the process (a restart after kill -9 is the same instance) and differ between
 * instances sharing one database: INSTANCE_ID when set, else an id generated once and kept in
 * `<DATA_DIR>/instance-id` (each instance has its own DATA_DIR: the DATA_DIR lock enforces it).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** File name of the persisted id inside DATA_DIR. */
export const INSTANCE_ID_FILE = 'instance-id';

const MAX_LENGTH = 200;

/** Trims and bounds an id; only printable ASCII survives (it goes into logs and the database). */
function normalize(raw: string): string {
  return raw
    .trim()
    .replace(/[^\x21-\x7e]/g, '')
    .slice(0, MAX_LENGTH);
}

/**
 * Returns `configured` (INSTANCE_ID) when non-empty, else the id persisted in `dataDir`, creating it
 * (`<hostname>-<8 hex>`) on first use. Synchronous: called once at start-up.
 * @throws when `dataDir` is not writable and no id exists yet (the server cannot run without one).
 */
export function resolveInstanceId(opts: { configured?: string | undefined; dataDir: string }): string {
  const configured = normalize(opts.configured ?? '');
  if (configured) return configured;
  const file = join(opts.dataDir, INSTANCE_ID_FILE);
  try {
    const existing = normalize(readFileSync(file, 'utf8'));
    if (existing) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = normalize(`${hostname()}-${randomUUID().slice(0, 8)}`);
  mkdirSync(opts.dataDir, { recursive: true });
  // Write then rename: a crash mid-write never leaves a half id that a restart would adopt.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, id + '\n');
  renameSync(tmp, file);
  return id;
}
