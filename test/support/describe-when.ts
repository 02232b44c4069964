/**
 * `describe` for a suite that needs something the machine may lack (Chromium, PostgreSQL,
 * onnxruntime-node): it runs when `unavailable` is null; otherwise it skips with a one-line reason,
 * or, under `STATECALL_REQUIRE_ALL_SUITES=1` (CI), fails so nothing is silently skipped there.
 */
/** Marks a suite name as skipped for want of something; read by the skip reporter. */
export const SKIP_MARK = ' (skipped: ';

/** See the file header. */
export function describeWhen(_area: string, name: string, unavailable: string | null, fn: () => void): void {
  if (!unavailable) {
    describe(name, fn);
  } else if (process.env.STATECALL_REQUIRE_ALL_SUITES === '1') {
    describe(name, () => {
      it('has what it needs to run', () => {
        throw new Error(`STATECALL_REQUIRE_ALL_SUITES=1 but ${unavailable}`);
      });
    });
  } else {
    // The reason rides in the suite's name: test/support/skip-reporter.js prints it in the
    // default `npm test` output (jest shows nothing of a skipped suite's console).
    describe.skip(`${name}${SKIP_MARK}${unavailable})`, fn);
  }
}
