/**
 * Replay: re-drives a persisted call's recorded events through the machines, with no providers and
 * no network (pure `transition`), and reports every step whose resulting state differs from the
 * one recorded, and every claim field (date, amount, status, phase) the replayed claim ends with
 * that differs from what the call stored. QA uses it on real calls (`npm run replay -- <id>`,
 * `--all` before a deploy) and on golden logs in tests.
 */
import { initialTransition, transition, type AnyStateMachine } from 'xstate';
import { callMachine } from '../../machines/call/call.machine.js';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { machineVersion } from '../session/machine-version.js';
import type { ConversationDetail, TransitionRow } from '../store/types.js';
import {
  compareRecordedOutputs,
  compareStoredClaim,
  replayedClaimOf,
  type FieldDivergence,
  type ReplayedClaim,
  type StoredClaim,
} from './compare-claim.js';

export type { FieldDivergence, ReplayedClaim, StoredClaim } from './compare-claim.js';

/** One replayed step. */
export interface ReplayStep {
  actor: 'call' | 'claim';
  seq: number;
  eventType: string;
  recorded: unknown;
  replayed: unknown;
  diverged: boolean;
  /** When the step was recorded (the row's created_at), to order steps of both actors. */
  at: string;
}

/** The outcome of a replay. */
export interface ReplayReport {
  steps: ReplayStep[];
  divergences: ReplayStep[];
  /** Claim fields that end differently from the stored row or the recorded claim output. */
  fieldDivergences: FieldDivergence[];
  /** The replayed claim at the end of its log (null when the claim actor was not replayed). */
  finalClaim: ReplayedClaim | null;
  /** Problems that stopped an actor's replay (missing init row, gaps in seq, a machine throwing). */
  errors: string[];
  /** The recorded log itself is unusable (missing init row, gap in seq): not a machine change. */
  incompleteLog: boolean;
  ok: boolean;
}

/** The machines a replay runs (today's by default; tests pass changed ones). */
export interface ReplayMachines {
  call: AnyStateMachine;
  claim: AnyStateMachine;
}

/** Options of {@link replayTransitions}. */
export interface ReplayOptions {
  machines?: Partial<ReplayMachines>;
  /** The stored claim columns to compare the replayed claim's final context and phase with. */
  conversation?: StoredClaim;
}

const TODAY: ReplayMachines = { call: callMachine, claim: claimMachine };

/** Deterministic JSON (sorted keys) so state values compare structurally. */
export function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(',')}}`;
}

/**
 * Replays the transitions of both actors (rows in any order) through `opts.machines` (today's by
 * default) and, when `opts.conversation` is given, compares the replayed claim with its columns.
 * Never throws: a machine that throws on a recorded event ends that actor's replay with an error.
 */
export function replayTransitions(rows: TransitionRow[], opts: ReplayOptions = {}): ReplayReport {
  const machines = { ...TODAY, ...opts.machines };
  const steps: ReplayStep[] = [];
  const errors: string[] = [];
  let incompleteLog = false;
  let finalClaim: ReplayedClaim | null = null;
  for (const actor of ['claim', 'call'] as const) {
    const mine = rows.filter((r) => r.actor === actor).sort((a, b) => a.seq - b.seq);
    if (mine.length === 0) continue;
    const first = mine[0]!;
    if (first.event_type !== 'xstate.init') {
      errors.push(`${actor}: first recorded event is ${first.event_type}, not xstate.init`);
      incompleteLog = true;
      continue;
    }
    const machine = machines[actor];
    const input = (first.event as { input?: unknown }).input;
    let snapshot;
    try {
      [snapshot] = initialTransition(machine, input);
    } catch (err) {
      errors.push(`${actor}: cannot initialise from recorded input: ${(err as Error).message}`);
      continue;
    }
    steps.push(step(actor, first, snapshot.value));
    for (let i = 1; i < mine.length; i++) {
      const row = mine[i]!;
      if (row.seq !== mine[i - 1]!.seq + 1) {
        errors.push(`${actor}: gap in the log before seq ${row.seq}`);
        incompleteLog = true;
      }
      const event = { ...row.event, type: row.event_type } as Parameters<typeof transition>[2];
      try {
        [snapshot] = transition(machine, snapshot, event);
      } catch (err) {
        errors.push(`${actor} seq ${row.seq}: ${(err as Error).message}`);
        break;
      }
      steps.push(step(actor, row, snapshot.value));
    }
    if (actor === 'claim') finalClaim = replayedClaimOf(snapshot);
  }
  const fieldDivergences: FieldDivergence[] = [];
  if (finalClaim) {
    const callRows = rows.filter((r) => r.actor === 'call');
    fieldDivergences.push(...compareRecordedOutputs(callRows, finalClaim));
    if (opts.conversation) fieldDivergences.push(...compareStoredClaim(opts.conversation, finalClaim));
  }
  const divergences = steps.filter((s) => s.diverged);
  return {
    steps,
    divergences,
    fieldDivergences,
    finalClaim,
    errors,
    incompleteLog,
    ok: divergences.length === 0 && fieldDivergences.length === 0 && errors.length === 0,
  };
}

/**
 * Replays a stored conversation: its transitions, compared step by step and, at the end, with the
 * claim columns of its row (when the detail has one, as the API and the store return it).
 */
export function replayConversation(
  detail: Pick<ConversationDetail, 'transitions'> & { conversation?: StoredClaim | null },
  machines?: Partial<ReplayMachines>,
): ReplayReport {
  return replayTransitions(detail.transitions, {
    machines,
    ...(detail.conversation ? { conversation: detail.conversation } : {}),
  });
}

/** The step recorded first among the divergent ones (by created_at, then seq), or undefined. */
export function firstDivergence(report: ReplayReport): ReplayStep | undefined {
  return [...report.divergences].sort((a, b) => a.at.localeCompare(b.at) || a.seq - b.seq)[0];
}

/** How the recorded machines relate to today's: `same`, or `changed` (not a failure by itself). */
export function compareMachineVersion(
  recorded: string | null | undefined,
  today: string = machineVersion,
): { recorded: string | null; today: string; same: boolean } {
  return { recorded: recorded ?? null, today, same: recorded === today };
}

function step(actor: 'call' | 'claim', row: TransitionRow, replayed: unknown): ReplayStep {
  return {
    actor,
    seq: row.seq,
    eventType: row.event_type,
    recorded: row.state_value,
    replayed,
    diverged: stableJson(row.state_value) !== stableJson(replayed),
    at: row.created_at,
  };
}

/** Renders a report as text lines for the CLI. */
export function formatReplayReport(report: ReplayReport): string {
  const show = (v: unknown) => (typeof v === 'string' ? v : stableJson(v));
  const lines = report.steps.map(
    (s) =>
      `${s.diverged ? '✗' : '✓'} ${s.actor.padEnd(5)} #${String(s.seq).padStart(3)} ${s.eventType.padEnd(44)} → ${show(s.replayed)}` +
      (s.diverged ? `   (recorded: ${show(s.recorded)})` : ''),
  );
  for (const f of report.fieldDivergences) lines.push(`✗ ${formatFieldDivergence(f)}`);
  for (const e of report.errors) lines.push(`! ${e}`);
  lines.push(
    report.ok
      ? `replay OK: ${report.steps.length} steps, no divergence`
      : `replay FAILED: ${report.divergences.length} divergent step(s), ` +
          `${report.fieldDivergences.length} divergent claim field(s), ${report.errors.length} error(s)`,
  );
  return lines.join('\n');
}

/** One line for a divergent claim field, e.g. `claim_amount: replayed null, stored 1250.5 (conversation row)`. */
export function formatFieldDivergence(f: FieldDivergence): string {
  const where =
    f.source === 'conversation' ? 'conversation row' : `call #${f.source.seq} ${f.source.eventType}`;
  return `${f.field}: replayed ${stableJson(f.replayed)}, recorded ${stableJson(f.recorded)} (${where})`;
}

/** The line replay prints about the machine versions. */
export function formatMachineVersion(v: ReturnType<typeof compareMachineVersion>): string {
  return v.same
    ? `machines: ${v.today} (the same as when the call was recorded)`
    : `machines: recorded ${v.recorded ?? 'unknown'}, today ${v.today} — the machines changed since this call`;
}
