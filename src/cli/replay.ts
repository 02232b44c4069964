/**
 * QA replay of recorded calls through today's machines (pure `transition`, no providers).
 *
 *   npm run replay -- <conversation-id | path/to/call-log.json>
 *     prints the state sequence, claim field and machine version checks of one call;
 *     exit 1 on divergence, 2 on usage or loading errors.
 *   npm run replay -- --all [--since YYYY-MM-DD] [--limit N]
 *     the pre-deploy check: re-drives every stored call (newest first) and lists the calls whose
 *     recorded behaviour would now differ; exit 1 if any differs, 0 if none, 2 on usage or loading
 *     errors.
 *
 * Calls are read from the running server's API when one answers (at REPLAY_URL, else PORT from the
 * shell or `.env`, or at the port in the DATA_DIR lock: PGlite allows one process per data
 * directory), else from the configured store directly (taking the DATA_DIR lock for PGlite), or
 * from a JSON file (`{transitions: [...]}` as the API returns it — the format of test/fixtures/calls/).
 */
import fs from 'node:fs';
import { loadConfig, type AppConfig } from '../config.js';
import { loadDotEnv } from '../load-dotenv.js';
import { apiCallSource, ServerUnreachableError } from '../replay/api-call-source.js';
import { formatReplayAll, replayAll, storeCallSource, type CallSource } from '../replay/replay-all.js';
import {
  compareMachineVersion,
  formatMachineVersion,
  formatReplayReport,
  replayConversation,
} from '../replay/replay.js';
import { createStoreFromConfig } from '../store/create-store.js';
import { lockDataDir, lockHolderOf } from '../store/data-dir-lock.js';
import { sinceInstantOf } from '../store/list-filters.js';
import type { ConversationDetail } from '../store/types.js';

const USAGE = [
  'usage: npm run replay -- <conversation-id | path/to/call-log.json>',
  '       npm run replay -- --all [--since YYYY-MM-DD] [--limit N]',
].join('\n');

class UsageError extends Error {}

/** Runs `use` on the first source that answers: the server's API, the lock holder's, the store. */
async function withCallSource<T>(use: (source: CallSource) => Promise<T>): Promise<T> {
  loadDotEnv(); // the same .env as `npm start`
  const config = loadConfig();
  const bases = [process.env.REPLAY_URL ?? `http://localhost:${config.PORT}`];
  // The server holding DATA_DIR may listen on another port than PORT says: the lock knows it.
  const holder = lockHolderOf(config.DATA_DIR);
  if (holder?.port) bases.push(`http://localhost:${holder.port}`);
  for (const base of bases) {
    try {
      return await use(apiCallSource(base, { token: config.DASHBOARD_TOKEN, timeoutMs: 5_000 }));
    } catch (err) {
      if (!(err instanceof ServerUnreachableError)) throw err;
    }
  }
  return withStore(config, use);
}

async function withStore<T>(config: AppConfig, use: (source: CallSource) => Promise<T>): Promise<T> {
  const embedded = !config.DATABASE_URL && !config.SUPABASE_URL;
  // Opening the embedded database needs DATA_DIR to itself (throws, naming the holder, if not).
  const lock = embedded ? lockDataDir(config.DATA_DIR, { purpose: 'replay' }) : null;
  try {
    const { store } = await createStoreFromConfig({
      databaseUrl: config.DATABASE_URL,
      supabaseUrl: config.SUPABASE_URL,
      supabaseKey: config.SUPABASE_KEY,
      dataDir: config.DATA_DIR,
      pgliteWorker: config.PGLITE_WORKER !== 'off',
    });
    await store.init();
    try {
      return await use(storeCallSource(store));
    } finally {
      await store.close();
    }
  } finally {
    lock?.release();
  }
}

async function replayOne(arg: string): Promise<number> {
  const detail = fs.existsSync(arg)
    ? (JSON.parse(fs.readFileSync(arg, 'utf8')) as ConversationDetail)
    : await withCallSource((source) => source.get(arg));
  if (!detail) {
    console.error(`conversation ${arg} not found`);
    return 2;
  }
  const c = detail.conversation;
  if (c) {
    console.log(`conversation ${c.id} · claim ${c.claim_id} · state ${c.state} · created ${c.created_at}`);
    // A changed version is news for QA, not a failure: the steps below say whether behaviour changed.
    console.log(formatMachineVersion(compareMachineVersion(c.machine_version)));
  }
  const report = replayConversation(detail);
  console.log(formatReplayReport(report));
  return report.ok ? 0 : 1;
}

/** `--all [--since YYYY-MM-DD] [--limit N]`, strictly: anything else is a usage error. */
function parseAllArgs(args: string[]): { since?: string; limit?: number } {
  const out: { since?: string; limit?: number } = {};
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    if (flag === '--since' && out.since === undefined) {
      const since = sinceInstantOf(value);
      if (since === null) throw new UsageError(`--since must be YYYY-MM-DD (or a UTC instant), not ${value}`);
      out.since = since;
    } else if (
      flag === '--limit' &&
      out.limit === undefined &&
      /^\d{1,7}$/.test(value) &&
      Number(value) > 0
    ) {
      out.limit = Number(value);
    } else {
      throw new UsageError(`unexpected ${flag} ${value}`);
    }
  }
  return out;
}

async function replayEverything(args: string[]): Promise<number> {
  const opts = parseAllArgs(args);
  const result = await withCallSource((source) => replayAll(source, opts));
  console.log(formatReplayAll(result));
  return result.ok ? 0 : 1;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args[0] === '--all') return replayEverything(args.slice(1));
  if (args.length !== 1 || args[0]!.startsWith('--')) throw new UsageError('one conversation id or file');
  return replayOne(args[0]!);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${USAGE}`);
    } else {
      console.error(`replay failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    process.exit(2);
  },
);
