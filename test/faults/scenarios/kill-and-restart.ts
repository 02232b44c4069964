import type { Scenario } from '../support/report.js';
export const killAndRestart: Scenario = { id: 'kill-and-restart', title: 'stub', async run() {} };
