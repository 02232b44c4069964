/**
 * Composition root: config → logger → server. `npm start` runs this; with no .env at all it uses
 * PGlite in DATA_DIR and the local providers, and prints the URL of the browser client.
 */
import { ConfigError, loadConfig } from './config.js';
import { loadDotEnv } from './load-dotenv.js';
import { createLogger } from './logger.js';
import { startServer } from './http/start-server.js';

async function main(): Promise<void> {
  loadDotEnv(); // .env from the working directory; variables already set win
  let config;
  try {
    // `npm start -- --inspect` is the same as INSPECT=1.
    const env = process.argv.includes('--inspect') ? { ...process.env, INSPECT: '1' } : process.env;
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL, { format: config.LOG_FORMAT });
  const server = await startServer(config, logger);
  // `npm run dev` passes --no-banner: its own line names the hot-reload client instead.
  if (!process.argv.includes('--no-banner')) printBanner(server.url, server.clientBuilt);

  // First signal: drain (no new calls, live ones may finish for DRAIN_TIMEOUT_S, then goodbye and
  // hang-up), flush the outbox, exit 0. A second signal cuts the wait short (the goodbyes still go).
  const hurry = new AbortController();
  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal: ending the live calls now');
      hurry.abort();
      return;
    }
    shuttingDown = true;
    const drainMs = config.DRAIN_TIMEOUT_S * 1000;
    logger.info({ signal, drainTimeoutS: config.DRAIN_TIMEOUT_S }, 'shutting down');
    // Last resort if something hangs: well after the drain and the outbox's own bounded flush.
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, drainMs + 60_000);
    force.unref();
    void server
      .drain({ timeoutMs: drainMs, signal: hurry.signal })
      .then(() => server.stop())
      .then(() => process.exit(0));
  };
  // A provider SDK that rejects a promise nobody awaits must not end every live call with it:
  // log it loudly (it is a bug to fix) and keep serving. Tests run without this net on purpose.
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection');
  });
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  watchParent(() => shutdown('parent exited'));
}

/** The URLs a user needs after `npm start`; the client's only when it is built. */
function printBanner(url: string, clientBuilt: boolean): void {
  const client = clientBuilt
    ? `${url}/`
    : 'not built: run `npm run client:build` (or start with `npm start`, which builds it)';
  console.log(
    `\n  statecall is running: ${url}\n  browser client: ${client}\n  talk in a terminal: npm run chat\n`,
  );
}

/** Read before anything slow, so a parent that dies during start-up is still noticed. */
const PARENT_AT_LAUNCH = process.ppid;

/**
 * `npm start` does not pass a SIGTERM on to the script it runs: npm exits and the server would be
 * left running, orphaned. When started by npm, treat the parent going away as a SIGTERM.
 */
function watchParent(onGone: () => void): void {
  if (!process.env.npm_lifecycle_event) return;
  const parent = PARENT_AT_LAUNCH;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, 500);
  timer.unref();
}

main().catch((err: unknown) => {
  const e = err as NodeJS.ErrnoException & { port?: number };
  const hint =
    e?.code === 'EADDRINUSE'
      ? ` (is another server running? set PORT to use another port, e.g. PORT=${(e.port ?? 3000) + 1} npm start)`
      : '';
  console.error(`statecall failed to start: ${err instanceof Error ? err.message : String(err)}${hint}`);
  process.exit(1);
});
