/**
 * Composition root: config → logger → server. `npm start` runs this; with no .env at all it uses
 * PGlite in DATA_DIR and the local providers, and prints the URL of the browser client.
 */
import { ConfigError, loadConfig } from './config.js';
import { loadDotEnv } from './load-dotenv.js';
import { createLogger } from './logger.js';
import { startServer } from './server/start-server.js';

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
  const logger = createLogger(config.LOG_LEVEL);
  const server = await startServer(config, logger);
  console.log(
    `\n  statecall is running: ${server.url}\n  browser client: ${server.url}/\n  talk in a terminal: npm run chat\n`,
  );

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void server.stop().then(() => process.exit(0));
  };
  // A provider SDK that rejects a promise nobody awaits must not end every live call with it:
  // log it loudly (it is a bug to fix) and keep serving. Tests run without this net on purpose.
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection');
  });
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
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
