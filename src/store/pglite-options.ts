/**
 * How the embedded PGlite is opened, in the main thread or its worker. Postgres's default 128 MB of
 * shared buffers is sized for a database server; a voice bot's store writes a few small rows per
 * turn, and 16 MB keeps every hot page cached while saving about 140 MB of resident memory per
 * process (measured: an existing data dir opens at 220 MB RSS with 8 MB, 356 MB with 128 MB).
 * The setting goes on the server's command line (`-c`), not into `postgresql.conf`: opening a data
 * dir never writes to it before Postgres has accepted it (a damaged folder is left as it was).
 */
export const PGLITE_SETTINGS: readonly string[] = ['shared_buffers=16MB'];

/** PGlite.create options for `dataDir` (memory-only when undefined), on top of PGlite's own start parameters. */
export function pgliteCreateOptions(
  dataDir: string | undefined,
  defaultStartParams: readonly string[],
): { dataDir?: string; startParams: string[] } {
  return {
    ...(dataDir === undefined ? {} : { dataDir }),
    startParams: [...defaultStartParams, ...PGLITE_SETTINGS.flatMap((s) => ['-c', s])],
  };
}
