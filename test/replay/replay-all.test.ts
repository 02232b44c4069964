/**
 * The pre-deploy check: replay every stored call through the machines about to ship, from a store
 * (PGlite in a temp DATA_DIR), from a running server's API, and from the command line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { validateClaimAmount } from '../../machines/claim/claim.validation.js';
import { apiCallSource } from '../../src/replay/api-call-source.js';
import { formatReplayAll, replayAll, storeCallSource } from '../../src/replay/replay-all.js';
import { createStoreFromConfig } from '../../src/store/create-store.js';
import type { ConversationStore } from '../../src/store/types.js';
import {
  FIXED_TODAY,
  listCallFixtures,
  runReplayCli,
  runScriptedCall,
  startLocalServer,
  storeGoldenCall,
  type LocalServer,
} from '../support/replay-helper.js';

/** The deliberate guard change: claims above 1000 dollars are no longer accepted. */
const stricterClaim = claimMachine.provide({
  guards: {
    amountValid: ({ context, event }) =>
      event.type === 'claim.amount.provided' &&
      validateClaimAmount(event.amount, Math.min(context.maxAmount, 1000)).ok,
  },
});

/** Golden calls whose amounts (1250.50, 1250 then 900, 1250.50) the stricter guard refuses. */
const AFFECTED = ['correction-while-verifying', 'happy-path', 'rejected-values'];

async function openStore(dataDir: string): Promise<ConversationStore> {
  const { store } = await createStoreFromConfig({ dataDir });
  await store.init();
  return store;
}

/** Stores every golden call once, one day apart (oldest first); returns name -> id. */
async function storeAllGoldenCalls(store: ConversationStore): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const [i, name] of listCallFixtures().entries()) {
    const at = new Date(Date.UTC(2026, 10, 1 + i, 12)).toISOString();
    ids.set(name, await storeGoldenCall(store, name, { created_at: at, updated_at: at, ended_at: at }));
  }
  return ids;
}

/** The CLI with DATA_DIR as given and no server to answer (REPLAY_URL: nothing listens on port 9). */
const runCli = (args: string[], env: Record<string, string>) =>
  runReplayCli(args, { REPLAY_URL: 'http://127.0.0.1:9', ...env });

describe('replay --all over a store of recorded calls', () => {
  let dataDir: string;
  let store: ConversationStore;
  let ids: Map<string, string>;
  let inProgress: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-replay-all-'));
    store = await openStore(dataDir);
    ids = await storeAllGoldenCalls(store);
    inProgress = await storeGoldenCall(store, 'happy-path', {
      created_at: new Date(Date.UTC(2026, 10, 20)).toISOString(),
      ended_at: null,
    });
  });
  afterAll(async () => {
    await store?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists no call when the machines did not change', async () => {
    const result = await replayAll(storeCallSource(store));
    expect(result.ok).toBe(true);
    expect(result.differing).toEqual([]);
    expect(result.verdicts.filter((v) => v.verdict === 'same')).toHaveLength(ids.size);
    expect(formatReplayAll(result)).toMatch(
      /replay --all: 0 of 6 call\(s\) would now differ, 5 the same, 1 skipped/,
    );
  });

  it('skips a call still in progress instead of judging a log that is still being written', async () => {
    const result = await replayAll(storeCallSource(store));
    expect(result.skipped.map((v) => [v.id, v.detail])).toEqual([[inProgress, 'in progress']]);
  });

  it('lists exactly the calls a stricter amount guard would now treat differently', async () => {
    const result = await replayAll(storeCallSource(store), {
      machines: { claim: stricterClaim },
      pageSize: 2,
    });
    expect(result.ok).toBe(false);
    expect(result.differing.map((v) => v.id).sort()).toEqual(AFFECTED.map((n) => ids.get(n)).sort());
    const happy = result.differing.find((v) => v.id === ids.get('happy-path'))!;
    expect(happy.detail).toBe(
      'claim #3 claim.amount.provided → {"ongoing":"collectingAmount"} (recorded {"ongoing":"verifying"})',
    );
    expect(happy.claimId).toMatch(/^CLM-/);
    const text = formatReplayAll(result);
    expect(text).toContain(`✗ ${happy.id} · ${happy.claimId} · ${happy.createdAt} · claim #3`);
    expect(text).toMatch(/replay --all: 3 of 6 call\(s\) would now differ, 2 the same, 1 skipped/);
    expect(text).toMatch(/FAILED$/);
  });

  it('checks only the calls created since the given instant, and at most --limit of them', async () => {
    const since = new Date(Date.UTC(2026, 10, 3)).toISOString();
    const recent = await replayAll(storeCallSource(store), { since, machines: { claim: stricterClaim } });
    // Days 3, 4, 5 (happy-path, rejected-values, repeat-claim-number) and the one in progress.
    expect(recent.verdicts).toHaveLength(4);
    expect(recent.differing.map((v) => v.id).sort()).toEqual(
      [ids.get('happy-path'), ids.get('rejected-values')].sort(),
    );
    const newest = await replayAll(storeCallSource(store), { limit: 2, pageSize: 1 });
    expect(newest.verdicts.map((v) => v.id)).toEqual([inProgress, ids.get('repeat-claim-number')]);
  });
});

describe('replay --all on the command line', () => {
  let dataDir: string;
  let ids: Map<string, string>;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-replay-cli-'));
    const store = await openStore(dataDir);
    try {
      ids = await storeAllGoldenCalls(store);
    } finally {
      await store.close();
    }
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('exits 0 and lists none when every stored call replays the same (read from the store)', async () => {
    const r = await runCli(['--all'], { DATA_DIR: dataDir });
    expect(r.stderr).not.toMatch(/replay failed/);
    expect(r.stdout).toMatch(/replay --all: 0 of 5 call\(s\) would now differ, 5 the same, 0 skipped/);
    expect(r.code).toBe(0);
  });

  it('exits 1 and names the call whose stored claim no longer matches', async () => {
    // What a changed action would look like from the store's side: the row says 900, replay 1250.50.
    const store = await openStore(dataDir);
    const id = ids.get('happy-path')!;
    try {
      await store.updateConversation(id, { claim_amount: 900, updated_at: new Date().toISOString() });
    } finally {
      await store.close();
    }
    const r = await runCli(['--all', '--since', '2026-11-01', '--limit', '50'], { DATA_DIR: dataDir });
    expect(r.stdout).toMatch(
      new RegExp(`✗ ${id} · CLM-\\d{4}-\\d{4} · \\S+ · claim_amount: replayed 1250.5, recorded 900`),
    );
    expect(r.stdout).toMatch(/replay --all: 1 of 5 call\(s\) would now differ/);
    expect(r.code).toBe(1);
  });

  it.each([
    [['--all', '--since', 'last-week']],
    [['--all', '--limit', '0']],
    [['--all', '--since']],
    [['--every']],
  ])('refuses the arguments %j with exit 2 and the usage', async (args) => {
    const r = await runCli(args, { DATA_DIR: dataDir });
    expect(r.stderr).toMatch(/usage: npm run replay/);
    expect(r.code).toBe(2);
  });
});

describe('replay --all over a running server', () => {
  let server: LocalServer;
  let expensive: string;
  let modest: string;

  beforeAll(async () => {
    server = await startLocalServer({ today: FIXED_TODAY });
    const script = (amount: string) => [
      { say: 'got it' },
      { say: 'March 3rd, 2026' },
      { say: amount },
      { say: 'yes' },
    ];
    expensive = (await runScriptedCall(server, script('1250 dollars'))).conversationId;
    modest = (await runScriptedCall(server, script('450 dollars'))).conversationId;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('lists none of the calls the engine just recorded under the same machines', async () => {
    const result = await replayAll(apiCallSource(server.url), { pageSize: 1 });
    expect(result.verdicts.map((v) => v.id)).toEqual([modest, expensive]);
    expect(result.differing).toEqual([]);
    expect(result.otherVersions).toBe(0);
  });

  it('lists the call a stricter amount guard would now refuse, paging through the API', async () => {
    const result = await replayAll(apiCallSource(server.url), {
      machines: { claim: stricterClaim },
      version: 'claim+call@stricter0000',
      pageSize: 1,
    });
    expect(result.differing.map((v) => v.id)).toEqual([expensive]);
    expect(result.otherVersions).toBe(2);
    expect(formatReplayAll(result)).toContain(`[recorded under ${result.verdicts[0]!.recordedVersion}]`);
  });
});
