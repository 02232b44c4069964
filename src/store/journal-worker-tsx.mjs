// Starts journal-worker.ts in a worker thread that has no TypeScript loader of its own (jest, tsx
// started with execArgv []), as pglite-worker-tsx.mjs does. The built server starts journal-worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./journal-worker.ts');
