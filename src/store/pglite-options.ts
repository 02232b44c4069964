/**
 * How the embedded PGlite is opened, in the main thread or its worker. Postgres's default 128 MB of
 * shared buffers is sized for a database server; a voice bot's store writes a few small rows per
 * turn, and 16 MB keeps every hot page cached while saving about 140 MB of resident memory per
 * process (measured: an existing data dir opens at 220 MB RSS with 8 MB, 356 MB with 128 MB).
 */
export const PGLITE_POSTGRES_CONF: readonly string[] = ['shared_buffers = 16MB'];

/** PGlite.create options for `dataDir` (memory-only when undefined). */
export function pgliteCreateOptions(dataDir: string | undefined): {
  dataDir?: string;
  postgresqlconf: string[];
} {
  return {
    ...(dataDir === undefined ? {} : { dataDir }),
    postgresqlconf: [...PGLITE_POSTGRES_CONF],
  };
}
