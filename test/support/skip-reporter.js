/**
 * Jest reporter: lists, after the run, every suite that `describeWhen` skipped and why (a missing
 * Chromium, PostgreSQL URL, espeak-ng or onnxruntime), so a skip is never silent in the default
 * `npm test` output. Plain JS: jest loads reporters without the TypeScript transform.
 */
import process from 'node:process';

const MARK = ' (skipped: '; // keep in sync with SKIP_MARK in describe-when.ts

export default class SkipReporter {
  constructor() {
    /** @type {Map<string, string>} reason -> file */
    this.skipped = new Map();
  }

  /** @param {unknown} _test @param {{testFilePath: string, testResults: {ancestorTitles: string[]}[]}} result */
  onTestResult(_test, result) {
    for (const t of result.testResults) {
      for (const title of t.ancestorTitles) {
        const at = title.indexOf(MARK);
        if (at < 0) continue;
        const reason = title.slice(at + MARK.length, -1);
        const file = result.testFilePath.slice(process.cwd().length + 1);
        this.skipped.set(`${title.slice(0, at).trim()} — ${reason}`, file);
      }
    }
  }

  onRunComplete() {
    if (this.skipped.size === 0) return;
    const lines = [...this.skipped].map(([what, file]) => `  skipped: ${file}: ${what}`);
    process.stdout.write(`\nSuites skipped on this machine (${this.skipped.size}):\n${lines.join('\n')}\n`);
  }
}
