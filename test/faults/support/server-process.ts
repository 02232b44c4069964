/**
 * The server as production runs it: a child process (`node --import tsx src/main.ts`, or
 * `npm start`), configured only through its environment, pointed at the protocol fakes.
 *
 * Lifecycle: `const server = await startServerProcess(opts)` resolves once `/healthz` answers;
 * `server.signal('SIGTERM')` / `server.kill9()`, then `await server.exited`. `stop()` is the
 * clean-up for `finally` blocks: SIGTERM, then SIGKILL of the process (by pid) if it lingers.
 * The child's output is kept (last lines) for diagnostics and for counting log messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Options of {@link startServerProcess}. */
export interface ServerProcessOptions {
  /** Environment of the server (merged over a minimal PATH/HOME; nothing else is inherited). */
  env: Record<string, string>;
  /** `node` (default): `node --import tsx src/main.ts`; `npm`: `npm start --ignore-scripts`. */
  via?: 'node' | 'npm';
  /** How long to wait for /healthz. Default 60 s (PGlite's first open is slow on a busy machine). */
  readyTimeoutMs?: number;
}

/** How the process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running server process. */
export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  /** True until the process exits. */
  alive(): boolean;
  /** Output lines (stdout and stderr) seen so far, newest last, at most 2000. */
  lines(): string[];
  /** Number of output lines containing `text` since the start. */
  count(text: string): number;
  signal(sig: NodeJS.Signals): void;
  kill9(): void;
  /** SIGTERM, waits up to `graceMs` (default 30 s), then SIGKILL. Never throws. */
  stop(graceMs?: number): Promise<ProcessExit>;
  /** GET /healthz as JSON (throws when unreachable). */
  health(): Promise<HealthBody>;
}

/** The parts of /healthz the suite reads. */
export interface HealthBody {
  ok?: boolean;
  activeCalls?: number;
  outbox?: { pending?: number; journalPending?: number; degraded?: boolean; [k: string]: unknown };
  [k: string]: unknown;
}

/** Every server process this run started and that has not exited yet. */
const running = new Set<ChildProcess>();

/** SIGKILLs every server process this run started that is still running (the runner's last resort). */
export function killStartedServers(): void {
  for (const child of running) child.kill('SIGKILL');
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `probe` every `everyMs` until it returns a value other than undefined, or `timeoutMs`
 * passes (then resolves undefined: the caller turns that into a failed invariant, with what it saw).
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 100,
): Promise<T | undefined> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      /* not yet */
    }
    if (Date.now() >= until) return undefined;
    await sleep(everyMs);
  }
}

/** Starts the server process and waits for /healthz (see file header). */
export async function startServerProcess(opts: ServerProcessOptions): Promise<ServerProcess> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const child =
    opts.via === 'npm'
      ? spawn('npm', ['start', '--ignore-scripts', '--silent'], {
          cwd: ROOT,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
          cwd: ROOT,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  const kept: string[] = [];
  let announced: string | null = null;
  const counted = new Map<string, number>();
  const watch: string[] = [];
  const onData = (() => {
    let partial = '';
    return (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        kept.push(line);
        // main.ts prints the URL it listens on (PORT=0 picks a free port).
        announced ??= /statecall is running: (http:\/\/\S+)/.exec(line)?.[1] ?? null;
        if (kept.length > 2000) kept.shift();
        for (const w of watch) if (line.includes(w)) counted.set(w, (counted.get(w) ?? 0) + 1);
      }
    };
  })();
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<ProcessExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => (done = true));
  const ready = await pollUntil(
    async () => {
      if (done) return false;
      if (!announced) return undefined;
      const res = await fetch(`${announced}/healthz`);
      return res.status === 200 ? true : undefined;
    },
    opts.readyTimeoutMs ?? 60_000,
    150,
  );
  if (!ready) {
    if (!done) child.kill('SIGKILL');
    const exit = await exited;
    throw new Error(
      `the server did not become healthy (exit ${JSON.stringify(exit)}):\n${kept.slice(-30).join('\n')}`,
    );
  }
  const url = announced!.replace('localhost', '127.0.0.1');

  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid!,
    child,
    exited,
    alive: () => !done,
    lines: () => [...kept],
    count(text) {
      if (!watch.includes(text)) {
        watch.push(text);
        counted.set(text, kept.filter((l) => l.includes(text)).length);
      }
      return counted.get(text) ?? 0;
    },
    signal(sig) {
      if (!done) child.kill(sig);
    },
    kill9() {
      if (!done) child.kill('SIGKILL');
    },
    async stop(graceMs = 30_000) {
      if (!done) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!done) child.kill('SIGKILL');
      }, graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
    async health() {
      const res = await fetch(`${url}/healthz`);
      return (await res.json()) as HealthBody;
    },
  };
}

/**
 * Waits until the server's outbox has nothing left to write (`pending` and `journalPending` both
 * 0) and returns the last /healthz outbox seen, with whether it got there within `timeoutMs`.
 */
export async function outboxDrained(
  server: ServerProcess,
  timeoutMs: number,
): Promise<{ drained: boolean; outbox: HealthBody['outbox'] | null }> {
  let outbox: HealthBody['outbox'] | null = null;
  const hit = await pollUntil(
    async () => {
      outbox = (await server.health()).outbox ?? null;
      return outbox && outbox.pending === 0 && (outbox.journalPending ?? 0) === 0 ? true : undefined;
    },
    timeoutMs,
    250,
  );
  return { drained: hit === true, outbox };
}
