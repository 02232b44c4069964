/**
 * Loads `.env` from the working directory into `process.env`, never overriding a variable that is
 * already set (the shell wins). The one place every entry point (`npm start`, `npm run chat`,
 * `npm run replay`) reads `.env`, so they all see the same PORT, DATA_DIR and keys.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/**
 * Reads `<cwd>/.env` if it exists. A malformed line is skipped by Node's parser (same rules as
 * `node --env-file`). Returns the names it set (never their values: some are secrets).
 */
export function loadDotEnv(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string[] {
  const path = join(cwd, '.env');
  if (!existsSync(path)) return [];
  const parsed = parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  const set: string[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    set.push(name);
  }
  return set;
}
