/**
 * The claim graph's paths to `done`, driven through the whole engine: the real server (PGlite in a
 * temp dir, local dialogue, outbox), a real WebSocket on `/client/stream`, one typed caller turn per
 * claim event, and the stored result read back through `GET /api/conversations/:id`.
 */
import { initialTransition, transition } from 'xstate';
import { getSimplePaths } from 'xstate/graph';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import type { ClaimEvent } from '../../machines/claim/claim.events.js';
import type { ClaimSnapshot } from '../../machines/claim/claim.view.js';
import type { ConversationDetail } from '../../src/store/types.js';
import {
  TODAY,
  claimInput,
  claimShortestPaths,
  sampleEvents,
  serializeClaimState,
  utteranceFor,
} from '../support/claim-paths.js';
import {
  createScratchDatabase,
  expectReplayMatches,
  fetchConversation,
  postgresTestUrl,
  runScriptedCall,
  startLocalServer,
  type LocalServer,
} from '../support/replay-helper.js';

interface PathToDone {
  name: string;
  events: ClaimEvent[];
  final: ClaimSnapshot['context'];
}

/**
 * The path's events and the context they lead to. The context is recomputed by running the events
 * (the graph's node snapshot stands for every path that reaches the same serialized state).
 */
function toPath(p: { steps: { event: unknown }[] }): PathToDone {
  const events = p.steps.map((s) => s.event as ClaimEvent).filter((e) => e.type !== ('xstate.init' as never));
  let [snapshot] = initialTransition(claimMachine, claimInput);
  for (const e of events) [snapshot] = transition(claimMachine, snapshot, e);
  if (snapshot.status !== 'done') throw new Error(`path ${JSON.stringify(events)} does not reach done`);
  return {
    name: events.map((e) => e.type.replace(/^claim\./, '')).join(' → '),
    events,
    final: snapshot.context,
  };
}

const isDone = (p: { state: unknown }) => (p.state as ClaimSnapshot).status === 'done';

const shortestToDone = claimShortestPaths().filter(isDone).map(toPath);
const shortestNames = new Set(shortestToDone.map((p) => p.name));
const otherSimpleToDone = getSimplePaths(claimMachine, {
  events: sampleEvents,
  input: claimInput,
  serializeState: (s) => serializeClaimState(s as ClaimSnapshot),
  toState: (s) => s.status === 'done',
})
  .map(toPath)
  .filter((p) => !shortestNames.has(p.name));

/** A claim event as the engine records it, comparable with the graph's sample event. */
function comparable(e: Record<string, unknown>): Record<string, unknown> {
  const { type, ...args } = e;
  if (type === 'claim.field.corrected') return { type, field: args.field, value: Number(args.value) };
  return { type, ...args };
}

const pgUrl = postgresTestUrl();
if (!pgUrl) console.info('[test/session] TEST_DATABASE_URL not set: claim paths run on PGlite only');

/** Stores the paths run against: PGlite always, PostgreSQL (a scratch database) when available. */
const stores: {
  store: string;
  database: () => Promise<{ env: Record<string, string>; drop(): Promise<void> }>;
}[] = [{ store: 'PGlite', database: async () => ({ env: {}, drop: async () => {} }) }];
if (pgUrl) {
  stores.push({
    store: 'PostgreSQL',
    database: async () => {
      const db = await createScratchDatabase(pgUrl);
      return { env: { DATABASE_URL: db.url }, drop: db.drop };
    },
  });
}

describe.each(stores)('claim graph paths through the whole engine on $store', ({ database }) => {
  let server: LocalServer;
  let drop: () => Promise<void> = async () => {};

  beforeAll(async () => {
    const db = await database();
    drop = db.drop;
    // The graph is walked with claimInput (today, maxAmount); the engine gets the same limits.
    server = await startLocalServer({
      today: TODAY,
      env: { ...db.env, MAX_CLAIM_AMOUNT: String(claimInput.maxAmount) },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await drop();
  });

  async function drive(path: PathToDone): Promise<ConversationDetail> {
    const utterances = path.events.map(utteranceFor);
    const call = await runScriptedCall(
      server,
      utterances.map((say) => ({ say })),
    );
    expect(call.close.code).toBe(1000);
    return fetchConversation(server.url, call.conversationId);
  }

  function expectFiled(detail: ConversationDetail, path: PathToDone): void {
    const { conversation, messages, transitions, metrics } = detail;
    expect(conversation).toMatchObject({
      state: 'done',
      claim_status: 'Pending',
      claim_date: path.final.claimDate,
      end_reason: 'completed',
      channel: 'browser',
    });
    expect(Number(conversation.claim_amount)).toBe(path.final.claimAmount);
    expect(conversation.ended_at).not.toBeNull();

    // The dialogue turned each utterance into exactly the graph's event, in order.
    const claimRows = transitions.filter((t) => t.actor === 'claim').sort((a, b) => a.seq - b.seq);
    expect(claimRows[0]?.event_type).toBe('xstate.init');
    expect(claimRows.slice(1).map((t) => comparable(t.event))).toEqual(
      path.events.map((e) => comparable(e as unknown as Record<string, unknown>)),
    );
    expect(claimRows.at(-1)?.state_value).toBe('done');
    const callRows = transitions.filter((t) => t.actor === 'call');
    expect(callRows.length).toBeGreaterThan(path.events.length);
    expect(callRows.at(-1)?.state_value).toBe('ended');

    // The transcript: every caller turn, a bot answer to each, and the tool calls in between.
    const said = messages.filter((m) => m.role === 'user').map((m) => m.text);
    expect(said).toEqual(path.events.map(utteranceFor));
    const bot = messages.filter((m) => m.role === 'assistant');
    expect(bot).toHaveLength(path.events.length + 1);
    expect(bot.at(-1)?.text).toMatch(/status Pending/);
    expect(messages.filter((m) => m.role === 'tool')).toHaveLength(path.events.length);

    expect(metrics).toMatchObject({
      conversation_id: conversation.id,
      turns: path.events.length + 1,
      llm_provider: 'local',
      interruptions: 0,
    });

    expectReplayMatches(detail);
  }

  it('has at least one shortest path to done to drive', () => {
    expect(shortestToDone.length).toBeGreaterThan(0);
  });

  describe.each(shortestToDone)('shortest path: $name', (path) => {
    it('files the claim as Pending with the values the graph predicts', async () => {
      expectFiled(await drive(path), path);
    });
  });

  describe.each(otherSimpleToDone)('other simple path: $name', (path) => {
    it('files the claim as Pending with the values the graph predicts', async () => {
      expectFiled(await drive(path), path);
    });
  });
});
