/**
 * `npm run replay -- <conversation-id | path/to/log.json>`: re-drives a recorded call through the
 * machines and prints the state sequence and any divergence. Exit code 1 on divergence, 2 on usage
 * or loading errors.
 *
 * The log is read from the running server's API when one answers (at PORT from the shell or
 * `.env`, or at the port in the DATA_DIR lock: PGlite allows one process per data directory), else
 * from the configured store directly (taking the DATA_DIR lock for PGlite), or from a JSON file
 * (`{transitions: [...]}` as the API returns it — the format of test/fixtures/calls/).
 */
import fs from 'node:fs';
import { loadConfig, type AppConfig } from '../config.js';
import { loadDotEnv } from '../load-dotenv.js';
import { lockDataDir, lockHolderOf } from '../store/data-dir-lock.js';
import {
  compareMachineVersion,
  formatMachineVersion,
  formatReplayReport,
  replayConversation,
} from '../replay/replay.js';
import { createStoreFromConfig } from '../store/create-store.js';
import type { ConversationDetail } from '../store/types.js';

async function fromServer(
  base: string,
  id: string,
  token?: string,
): Promise<ConversationDetail | null | 'unreachable'> {
  try {
    const res = await fetch(`${base}/api/conversations/${encodeURIComponent(id)}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(3000),
    });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`server answered HTTP ${res.status}: ${await res.text()}`);
    return (await res.json()) as ConversationDetail;
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('server answered')) throw err;
    return 'unreachable';
  }
}

async function load(arg: string): Promise<ConversationDetail | null> {
  if (fs.existsSync(arg)) return JSON.parse(fs.readFileSync(arg, 'utf8')) as ConversationDetail;
  loadDotEnv(); // the same .env as `npm start`
  const config = loadConfig();
  const remote = await fromServer(
    process.env.REPLAY_URL ?? `http://localhost:${config.PORT}`,
    arg,
    config.DASHBOARD_TOKEN,
  );
  if (remote !== 'unreachable') return remote;
  // The server holding DATA_DIR may listen on another port than PORT says: the lock knows it.
  const holder = lockHolderOf(config.DATA_DIR);
  if (holder?.port) {
    const viaLock = await fromServer(`http://localhost:${holder.port}`, arg, config.DASHBOARD_TOKEN);
    if (viaLock !== 'unreachable') return viaLock;
  }
  const embedded = !config.DATABASE_URL && !config.SUPABASE_URL;
  // Opening the embedded database needs DATA_DIR to itself (throws, naming the holder, if not).
  const lock = embedded ? lockDataDir(config.DATA_DIR, { purpose: 'replay' }) : null;
  try {
    return await loadFromStore(config, arg);
  } finally {
    lock?.release();
  }
}

async function loadFromStore(config: AppConfig, arg: string): Promise<ConversationDetail | null> {
  const { store } = await createStoreFromConfig({
    databaseUrl: config.DATABASE_URL,
    supabaseUrl: config.SUPABASE_URL,
    supabaseKey: config.SUPABASE_KEY,
    dataDir: config.DATA_DIR,
  });
  await store.init();
  try {
    return await store.getConversation(arg);
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (!arg) {
    console.error('usage: npm run replay -- <conversation-id | path/to/call-log.json>');
    process.exit(2);
  }
  const detail = await load(arg);
  if (!detail) {
    console.error(`conversation ${arg} not found`);
    process.exit(2);
  }
  const c = detail.conversation;
  if (c) {
    console.log(`conversation ${c.id} · claim ${c.claim_id} · state ${c.state} · created ${c.created_at}`);
    // A changed version is news for QA, not a failure: the steps below say whether behaviour changed.
    console.log(formatMachineVersion(compareMachineVersion(c.machine_version)));
  }
  const report = replayConversation(detail);
  console.log(formatReplayReport(report));
  process.exit(report.ok ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(`replay failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
