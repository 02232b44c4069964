/**
 * The common frame of a scenario: the fakes, a temp DATA_DIR, one server process pointed at both;
 * everything torn down afterwards (the server's exit is reported as a figure), whatever happened.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPhoneStack, type PhoneStack } from './phone-stack.js';
import type { ScenarioReport } from './report.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/** What the body of a scenario gets. */
export interface ScenarioContext {
  stack: PhoneStack;
  server: ServerProcess;
  dataDir: string;
}

/** Makes a temp directory; `remove()` deletes it. */
export function tempDir(name: string): { path: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `statecall-faults-${name}-`));
  return { path: dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `body` against a fresh stack and server process (see file header). */
export async function withPhoneServer(
  report: ScenarioReport,
  name: string,
  env: Record<string, string>,
  body: (ctx: ScenarioContext) => Promise<void>,
): Promise<void> {
  const stack = await startPhoneStack();
  const dir = tempDir(name);
  let server: ServerProcess | null = null;
  try {
    server = await startServerProcess({ env: stack.serverEnv({ DATA_DIR: dir.path, ...env }) });
    await body({ stack, server, dataDir: dir.path });
  } finally {
    if (server) report.figure(`${name}: server exit`, await server.stop());
    await stack.close();
    dir.remove();
  }
}
