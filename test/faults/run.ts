/**
 * The fault suite (`npm run test:faults`, also run by `.ci/run`): each scenario attacks a real
 * server process (fuzzed Media Streams, a database outage, kill -9, SIGTERM, a burst of calls, bad
 * HTTP input), prints its figures as a table, and checks its invariants. Exit code 1 when any
 * invariant fails or a scenario throws.
 *
 * `npm run test:faults -- fuzz burst` runs only the scenarios whose id is given.
 */
import { badHttpInput } from './scenarios/bad-http-input.js';
import { burstOverCapacity } from './scenarios/burst-over-capacity.js';
import { databaseOutage } from './scenarios/database-outage.js';
import { killAndRestart } from './scenarios/kill-and-restart.js';
import { mediaStreamFuzz } from './scenarios/media-stream-fuzz.js';
import { sigtermDrain } from './scenarios/sigterm-drain.js';
import { renderReport, ScenarioReport, type Scenario } from './support/report.js';
import { killStartedServers } from './support/server-process.js';

/** The whole suite takes ~2-3 min on 2 cores; past this something hangs: fail loudly. */
const SUITE_TIMEOUT_MS = Number(process.env.FAULTS_TIMEOUT_S ?? 600) * 1000;

const ALL: Scenario[] = [
  mediaStreamFuzz,
  databaseOutage,
  killAndRestart,
  sigtermDrain,
  burstOverCapacity,
  badHttpInput,
];

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !ALL.some((s) => s.id === w));
if (unknown.length) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${ALL.map((s) => s.id).join(', ')}`);
  process.exit(2);
}
const scenarios = wanted.length ? ALL.filter((s) => wanted.includes(s.id)) : ALL;
const required = process.env.STATECALL_REQUIRE_ALL_SUITES === '1';

process.on('exit', killStartedServers);
setTimeout(() => {
  console.error(`\nfault suite: still running after ${SUITE_TIMEOUT_MS / 1000} s, giving up`);
  process.exit(1);
}, SUITE_TIMEOUT_MS).unref();

const summary: Array<{ id: string; outcome: string; seconds: number }> = [];
const started = performance.now();
for (const s of scenarios) {
  console.log(`\n== ${s.id}: ${s.title}`);
  const t0 = performance.now();
  const report = new ScenarioReport();
  let outcome: string;
  const missing = s.needs ? await s.needs() : null;
  if (missing) {
    outcome = required ? 'FAIL' : 'skipped';
    report.check(`can run here`, !required, `skipped: ${missing}`);
    if (!required) console.log(`  skipped: ${missing}`);
  } else {
    try {
      await s.run(report);
    } catch (err) {
      report.check('scenario ran to the end', false, err instanceof Error ? (err.stack ?? err.message) : err);
    }
    outcome = report.failed.length ? 'FAIL' : 'pass';
  }
  const seconds = (performance.now() - t0) / 1000;
  report.figure('scenario time (s)', seconds);
  console.log(renderReport(report));
  summary.push({ id: s.id, outcome, seconds });
}

console.log(`\n== fault suite: ${((performance.now() - started) / 1000).toFixed(1)} s`);
for (const r of summary) console.log(`  ${r.outcome.padEnd(7)} ${r.id.padEnd(10)} ${r.seconds.toFixed(1)} s`);
const failed = summary.filter((r) => r.outcome === 'FAIL');
if (failed.length) {
  console.log(`\n${failed.length} scenario(s) failed: ${failed.map((r) => r.id).join(', ')}`);
  process.exit(1);
}
process.exit(0);
