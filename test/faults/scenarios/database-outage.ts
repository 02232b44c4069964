import type { Scenario } from '../support/report.js';
export const databaseOutage: Scenario = { id: 'database-outage', title: 'stub', async run() {} };
