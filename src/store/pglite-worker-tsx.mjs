// Starts pglite-worker.ts in a worker thread that has no TypeScript loader of its own: jest (its
// transform does not reach worker threads) and tsx (started with execArgv [] so the loader is
// registered exactly once, here). The built server starts dist/src/store/pglite-worker.js instead.
import { register } from 'tsx/esm/api';

register();
await import('./pglite-worker.ts');
