/**
 * `createApp` alone on an ephemeral 127.0.0.1 port, for tests of the HTTP edge that need to inject
 * what the composition root normally wires (the store check, a static client folder, a registry).
 * The store is a stub naming its kind: tests using this harness must not reach the store.
 *
 * Lifecycle: `const h = await serveApp(overrides)`, `h.url`, `await h.close()`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type App, type AppDeps } from '../../src/http/app.js';
import { createSessionRegistry } from '../../src/http/session-registry.js';
import { createLogger } from '../../src/logger.js';
import type { ConversationStore } from '../../src/store/types.js';

/** A served app. */
export interface ServedApp {
  app: App;
  url: string;
  close(): Promise<void>;
}

/** Serves `createApp` with test defaults, `overrides` replacing them. */
export async function serveApp(overrides: Partial<AppDeps> = {}): Promise<ServedApp> {
  const app = createApp({
    store: { kind: 'postgres' } as ConversationStore,
    logger: createLogger('silent', { pretty: false }),
    access: {},
    sessions: createSessionRegistry(2),
    startSession: () => Promise.reject(new Error('no sessions in this test')),
    checkStore: () => Promise.resolve({ reachable: true }),
    ...overrides,
  });
  const server = http.createServer(app.express);
  app.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    app,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
