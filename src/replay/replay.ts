/**
 * Replay: re-drives a persisted call's recorded events through the machines, with no providers and
 * no network (pure `transition`), and reports every step whose resulting state differs from the
 * one recorded. QA uses it on real calls (`npm run replay -- <id>`) and on golden logs in tests.
 */
import { initialTransition, transition, type AnyStateMachine } from 'xstate';
import { callMachine } from '../../machines/call.machine.js';
import { claimMachine } from '../../machines/claim.machine.js';
import type { TransitionRow } from '../store/types.js';

/** One replayed step. */
export interface ReplayStep {
  actor: 'call' | 'claim';
  seq: number;
  eventType: string;
  recorded: unknown;
  replayed: unknown;
  diverged: boolean;
}

/** The outcome of a replay. */
export interface ReplayReport {
  steps: ReplayStep[];
  divergences: ReplayStep[];
  /** Problems that stopped an actor's replay (missing init row, gaps in seq). */
  errors: string[];
  ok: boolean;
}

const MACHINES: Record<'call' | 'claim', AnyStateMachine> = { call: callMachine, claim: claimMachine };

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

/** Replays the transitions of both actors (rows in any order). */
export function replayTransitions(rows: TransitionRow[]): ReplayReport {
  const steps: ReplayStep[] = [];
  const errors: string[] = [];
  for (const actor of ['claim', 'call'] as const) {
    const mine = rows.filter((r) => r.actor === actor).sort((a, b) => a.seq - b.seq);
    if (mine.length === 0) continue;
    const first = mine[0]!;
    if (first.event_type !== 'xstate.init') {
      errors.push(`${actor}: first recorded event is ${first.event_type}, not xstate.init`);
      continue;
    }
    const machine = MACHINES[actor];
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
      if (row.seq !== mine[i - 1]!.seq + 1) errors.push(`${actor}: gap in the log before seq ${row.seq}`);
      const event = { ...row.event, type: row.event_type } as Parameters<typeof transition>[2];
      try {
        [snapshot] = transition(machine, snapshot, event);
      } catch (err) {
        errors.push(`${actor} seq ${row.seq}: ${(err as Error).message}`);
        break;
      }
      steps.push(step(actor, row, snapshot.value));
    }
  }
  const divergences = steps.filter((s) => s.diverged);
  return { steps, divergences, errors, ok: divergences.length === 0 && errors.length === 0 };
}

function step(actor: 'call' | 'claim', row: TransitionRow, replayed: unknown): ReplayStep {
  return {
    actor,
    seq: row.seq,
    eventType: row.event_type,
    recorded: row.state_value,
    replayed,
    diverged: stableJson(row.state_value) !== stableJson(replayed),
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
  for (const e of report.errors) lines.push(`! ${e}`);
  lines.push(
    report.ok
      ? `replay OK: ${report.steps.length} steps, no divergence`
      : `replay FAILED: ${report.divergences.length} divergent step(s), ${report.errors.length} error(s)`,
  );
  return lines.join('\n');
}
