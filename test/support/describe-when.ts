/**
 * `describe` for a suite that needs something the machine may lack (Chromium, PostgreSQL,
 * onnxruntime-node): it runs when `unavailable` is null; otherwise it skips with a one-line reason,
 * or, under `STATECALL_REQUIRE_ALL_SUITES=1` (CI), fails so nothing is silently skipped there.
 */
export function describeWhen(area: string, name: string, unavailable: string | null, fn: () => void): void {
  if (!unavailable) {
    describe(name, fn);
  } else if (process.env.STATECALL_REQUIRE_ALL_SUITES === '1') {
    describe(name, () => {
      it('has what it needs to run', () => {
        throw new Error(`STATECALL_REQUIRE_ALL_SUITES=1 but ${unavailable}`);
      });
    });
  } else {
    console.info(`[${area}] skipping "${name}": ${unavailable}`);
    describe.skip(name, fn);
  }
}
