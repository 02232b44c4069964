/**
 * The fault suite's bookkeeping: a scenario records its figures (printed as a compact table) and
 * its invariants (each one a named check that passes or fails with what was seen). A scenario
 * fails when any invariant failed or it threw; the runner then exits non-zero.
 *
 * Invariants are facts about the outcome (counts, states, rows), never about time: durations are
 * only printed as figures.
 */

/** One invariant's outcome. */
export interface Check {
  name: string;
  ok: boolean;
  /** What was seen (always printed on failure). */
  detail: string;
}

/** What a scenario reports while it runs. */
export class ScenarioReport {
  readonly figures: Array<[string, string]> = [];
  readonly checks: Check[] = [];

  /** Records a figure (printed in the table, in insertion order). */
  figure(name: string, value: unknown): void {
    this.figures.push([name, formatValue(value)]);
  }

  /** Records an invariant: `ok` must hold; `detail` says what was observed. */
  check(name: string, ok: boolean, detail: unknown = ''): boolean {
    this.checks.push({ name, ok, detail: formatValue(detail) });
    return ok;
  }

  /** `actual` must equal `expected` (compared as JSON). */
  equal(name: string, actual: unknown, expected: unknown): boolean {
    const ok = JSON.stringify(actual) === JSON.stringify(expected);
    return this.check(
      name,
      ok,
      ok ? actual : `expected ${formatValue(expected)}, got ${formatValue(actual)}`,
    );
  }

  get failed(): Check[] {
    return this.checks.filter((c) => !c.ok);
  }
}

/** A scenario of the suite: a behaviour sentence and the code that exercises it. */
export interface Scenario {
  /** Short id for `npm run test:faults -- <id>`. */
  id: string;
  /** What must hold, as a sentence. */
  title: string;
  /** What the scenario needs from the machine; a reason string means it cannot run here. */
  needs?: () => Promise<string | null>;
  run(report: ScenarioReport): Promise<void>;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(1);
  return JSON.stringify(v) ?? String(v);
}

/** Renders figures and checks as a two-column table. */
export function renderReport(report: ScenarioReport): string {
  const rows: Array<[string, string]> = [
    ...report.figures,
    ...report.checks.map((c): [string, string] => [
      `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`,
      c.ok ? '' : c.detail,
    ]),
  ];
  const width = Math.min(48, Math.max(...rows.map(([k]) => k.length), 10));
  return rows
    .map(([k, v]) => {
      const flat = v.replace(/\s+/g, ' ');
      const value = flat.length > 400 ? `${flat.slice(0, 400)}…` : flat;
      return `  ${k.padEnd(width)}  ${value}`.trimEnd();
    })
    .join('\n');
}
