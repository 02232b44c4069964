/**
 * `npm run loadtest -- --url https://host --calls 50 --ramp 10s --duration 2m [--keypad]`:
 * simulated Twilio callers against a running deployment (src/loadtest/), a progress bar on a
 * terminal, then the report as a table on stdout and an HTML chart file (see src/loadtest/report.ts).
 * Exit code 0 when every call completed, 1 when some failed, 2 on a usage error.
 * Ctrl-C ends the calls in progress (as `aborted`) and still writes the report.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultAudioDir, loadCallerScript } from '../loadtest/caller-script.js';
import { parseLoadtestArgs, USAGE, UsageError } from '../loadtest/options.js';
import { createProgressBar } from '../loadtest/progress.js';
import { formatReport, renderHtmlReport, summarize } from '../loadtest/report.js';
import { runLoad } from '../loadtest/run-load.js';

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseLoadtestArgs(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) process.stderr.write(`loadtest: ${err.message}\n\n`);
    process.stderr.write(USAGE);
    return err.message ? 2 : 0;
  }
  let script;
  try {
    script = loadCallerScript({ keypad: opts.keypad, audioDir: opts.audioDir ?? defaultAudioDir() });
  } catch (err) {
    process.stderr.write(`loadtest: ${(err as Error).message}\n`);
    return 2;
  }
  if (!opts.authToken)
    process.stderr.write(
      'loadtest: no TWILIO_AUTH_TOKEN / --auth-token: requests are unsigned (a server that checks signatures refuses them)\n',
    );
  const target = `${opts.url}${opts.webhookPath}`;
  process.stderr.write(
    `loadtest: ${opts.calls} caller(s) against ${target}, ramp ${opts.rampMs / 1000} s, ${opts.durationMs === undefined ? 'one call each' : `for ${opts.durationMs / 1000} s`}, ${opts.keypad ? 'keypad' : 'recorded speech'}\n`,
  );
  const abort = new AbortController();
  const onSignal = () => {
    process.stderr.write('\nloadtest: stopping the calls in progress...\n');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  const bar = createProgressBar(process.stderr, { calls: opts.calls, durationMs: opts.durationMs });
  const result = await runLoad({
    url: opts.url,
    publicUrl: opts.publicUrl,
    webhookPath: opts.webhookPath,
    authToken: opts.authToken,
    to: opts.to,
    script,
    turnTimeoutMs: opts.turnTimeoutMs,
    calls: opts.calls,
    rampMs: opts.rampMs,
    durationMs: opts.durationMs,
    signal: abort.signal,
    onProgress: (p) => bar.update(p),
  });
  bar.done();
  process.off('SIGINT', onSignal);
  const summary = summarize(result, { target, mode: opts.keypad ? 'keypad' : 'voice' });
  process.stdout.write(`${formatReport(summary)}\n`);
  const html = resolve(opts.htmlOut);
  writeFileSync(html, renderHtmlReport(summary));
  process.stdout.write(`\nHTML report: ${html}\n`);
  if (opts.jsonOut) writeFileSync(resolve(opts.jsonOut), JSON.stringify(summary, null, 2) + '\n');
  return summary.failed > 0 ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`loadtest: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
