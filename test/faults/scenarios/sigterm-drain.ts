import type { Scenario } from '../support/report.js';
export const sigtermDrain: Scenario = { id: 'sigterm-drain', title: 'stub', async run() {} };
