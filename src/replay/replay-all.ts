/**
 * Replay of every stored call: the pre-deploy check. Pages through the stored conversations (newest
 * first), re-drives each one's recorded events through the machines about to be deployed, and
 * lists the calls whose recorded behaviour would now differ (a state, a claim field, or a machine
 * that throws on a recorded event). Calls still in progress, with no transitions or with a broken
 * log (gap, no `xstate.init`) are skipped and counted, never counted as differing.
 *
 * Reads through a {@link CallSource}: the store directly ({@link storeCallSource}) or a running
 * server's API (`api-call-source.ts`). Never throws for one call's content; a source that fails
 * (database down, HTTP error) rejects the whole run.
 */
import { machineVersion } from '../session/machine-version.js';
import { cursorOf, parseCursor } from '../store/list-filters.js';
import type {
  ConversationDetail,
  ConversationRow,
  ConversationStore,
  ListConversationsQuery,
} from '../store/types.js';
import {
  compareMachineVersion,
  firstDivergence,
  formatFieldDivergence,
  replayConversation,
  stableJson,
  type ReplayMachines,
  type ReplayReport,
} from './replay.js';

/** Where replay-all reads calls from. */
export interface CallSource {
  /** One page of conversations, newest first, and the cursor of the next page (null: last page). */
  listPage(query: {
    limit: number;
    since?: string;
    cursor?: string;
  }): Promise<{ conversations: ConversationRow[]; next: string | null }>;
  /** One conversation with its transitions, or null when it is gone. */
  get(id: string): Promise<ConversationDetail | null>;
}

/** A {@link CallSource} over a store (keyset paging with the store's cursor). */
export function storeCallSource(store: Pick<ConversationStore, 'listConversations' | 'getConversation'>) {
  const source: CallSource = {
    async listPage({ limit, since, cursor }) {
      const query: ListConversationsQuery = { limit };
      if (since !== undefined) query.since = since;
      if (cursor !== undefined) {
        const before = parseCursor(cursor);
        if (!before) throw new Error(`not a listing cursor: ${cursor}`);
        query.before = before;
      }
      const conversations = await store.listConversations(query);
      const last = conversations.at(-1);
      return { conversations, next: last && conversations.length >= limit ? cursorOf(last) : null };
    },
    get: (id) => store.getConversation(id),
  };
  return source;
}

/** Options of {@link replayAll}. */
export interface ReplayAllOptions {
  /** Only calls created at or after this ISO instant. */
  since?: string;
  /** At most this many calls (the newest). */
  limit?: number;
  /** The machines to check against (today's by default). */
  machines?: Partial<ReplayMachines>;
  /** The version of those machines (today's by default), compared with each call's. */
  version?: string;
  /** Conversations per listing request (default 200, the API's maximum). */
  pageSize?: number;
}

/** What replay-all found for one call. */
export interface CallVerdict {
  id: string;
  claimId: string;
  createdAt: string;
  recordedVersion: string;
  verdict: 'same' | 'differs' | 'skipped';
  /** For `differs`: the first divergent step or field; for `skipped`: why. */
  detail: string | null;
  report: ReplayReport | null;
}

/** The outcome of {@link replayAll}. */
export interface ReplayAllResult {
  version: string;
  verdicts: CallVerdict[];
  differing: CallVerdict[];
  skipped: CallVerdict[];
  /** How many calls were recorded under other machines than `version`. */
  otherVersions: number;
  /** True when no call differs (skipped ones do not count). */
  ok: boolean;
}

/** The first divergence of a report in one line (a step first, then a field, then an error). */
export function describeFirstDivergence(report: ReplayReport): string | null {
  const show = (v: unknown) => (typeof v === 'string' ? v : stableJson(v));
  const step = firstDivergence(report);
  if (step) {
    return `${step.actor} #${step.seq} ${step.eventType} → ${show(step.replayed)} (recorded ${show(step.recorded)})`;
  }
  const field = report.fieldDivergences[0];
  if (field) return formatFieldDivergence(field);
  return report.errors[0] ?? null;
}

function judge(row: ConversationRow, detail: ConversationDetail | null, opts: ReplayAllOptions): CallVerdict {
  const base = {
    id: row.id,
    claimId: row.claim_id,
    createdAt: row.created_at,
    recordedVersion: row.machine_version,
  };
  const skip = (why: string): CallVerdict => ({ ...base, verdict: 'skipped', detail: why, report: null });
  // A call still running has rows in flight: its log and its row may not agree yet.
  if (row.ended_at === null) return skip('in progress');
  if (!detail) return skip('deleted while listing');
  if (detail.transitions.length === 0) return skip('no transitions recorded');
  const report = replayConversation(detail, opts.machines);
  if (report.incompleteLog) return { ...skip(`incomplete log: ${report.errors.join('; ')}`), report };
  if (report.ok) return { ...base, verdict: 'same', detail: null, report };
  return { ...base, verdict: 'differs', detail: describeFirstDivergence(report), report };
}

/** Replays every stored call the options select; see the file header. */
export async function replayAll(source: CallSource, opts: ReplayAllOptions = {}): Promise<ReplayAllResult> {
  const version = opts.version ?? machineVersion;
  const pageSize = opts.pageSize ?? 200;
  const verdicts: CallVerdict[] = [];
  let cursor: string | undefined;
  for (;;) {
    const want = opts.limit === undefined ? pageSize : Math.min(pageSize, opts.limit - verdicts.length);
    if (want <= 0) break;
    const page = await source.listPage({
      limit: want,
      ...(opts.since !== undefined ? { since: opts.since } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    for (const row of page.conversations) verdicts.push(judge(row, await source.get(row.id), opts));
    if (page.next === null || page.conversations.length === 0) break;
    cursor = page.next;
  }
  const differing = verdicts.filter((v) => v.verdict === 'differs');
  return {
    version,
    verdicts,
    differing,
    skipped: verdicts.filter((v) => v.verdict === 'skipped'),
    otherVersions: verdicts.filter((v) => !compareMachineVersion(v.recordedVersion, version).same).length,
    ok: differing.length === 0,
  };
}

/** Text for the CLI: one line per differing or skipped call, then the summary line. */
export function formatReplayAll(result: ReplayAllResult): string {
  const lines: string[] = [];
  for (const v of result.verdicts) {
    if (v.verdict === 'same') continue;
    const mark = v.verdict === 'differs' ? '✗' : '-';
    const machines = v.recordedVersion === result.version ? '' : ` [recorded under ${v.recordedVersion}]`;
    const what = v.verdict === 'skipped' ? `skipped: ${v.detail}` : v.detail;
    lines.push(`${mark} ${v.id} · ${v.claimId} · ${v.createdAt} · ${what}${machines}`);
  }
  const same = result.verdicts.length - result.differing.length - result.skipped.length;
  lines.push(
    `replay --all: ${result.differing.length} of ${result.verdicts.length} call(s) would now differ, ` +
      `${same} the same, ${result.skipped.length} skipped; ${result.otherVersions} recorded under other ` +
      `machines than ${result.version}` +
      (result.ok ? ' — OK' : ' — FAILED'),
  );
  return lines.join('\n');
}
