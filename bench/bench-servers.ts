/**
 * The server processes of the latency bench: the engine (`src/main.ts`, as in production) and the
 * bare pipeline (bench/bare-pipeline.ts), each its own process so CPU and RSS are measured the same
 * way (from /proc), both with bench/loop-probe.ts preloaded for the event-loop delay.
 *
 * Lifecycle: `await spawnBenchServer(kind, providers)` resolves once `/healthz` answers; `stop()`
 * sends SIGTERM and resolves when the process exited (and removes the engine's DATA_DIR).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Which pipeline a process runs. */
export type PipelineKind = 'engine' | 'baseline';

/** Where the provider fakes listen, and the Twilio credentials both pipelines check. */
export interface BenchProviders {
  deepgramUrl: string;
  openaiUrl: string;
  cartesiaUrl: string;
  twilio: { accountSid: string; authToken: string; restUrl: string; publicUrl: string };
  /** Deepgram `endpointing` both pipelines ask for (`DEEPGRAM_ENDPOINTING_MS`, `BARE_ENDPOINTING_MS`). */
  endpointingMs: number;
  /** Sessions the engine admits. */
  maxCalls: number;
  /** The engine's PostgreSQL (`DATABASE_URL`); without it, the embedded PGlite in a fresh DATA_DIR. */
  databaseUrl?: string;
}

/** What the event-loop probe reports. */
export interface LoopReading {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  rssBytes: number;
  /** The process's own CPU time since the last reset (`process.cpuUsage`, every thread), ms. */
  cpuMs: number;
}

/** A running server process. */
export interface BenchServer {
  kind: PipelineKind;
  url: string;
  pid: number;
  /** User + system CPU time so far, ms (NaN without /proc). */
  cpuMs(): number;
  /** Resident set size now, bytes (NaN without /proc). */
  rssBytes(): number;
  /** Starts a new event-loop measuring window. */
  resetLoop(): void;
  /** Event-loop delay since the last reset. */
  readLoop(): Promise<LoopReading>;
  stop(): Promise<void>;
}

/** The OpenAI `model` the bare pipeline asks for, so the scripted model can tell the two apart. */
export const BASELINE_MODEL = 'bare-pipeline';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLK_TCK = 100; // Linux USER_HZ

const handedOut = new Set<number>();

/**
 * A free port for a server under test, below Linux's ephemeral range (32768–60999): the fakes and
 * every client socket bind port 0 and get ephemeral ports, so one of them could take a port picked
 * from that range between this check and the server's own listen (EADDRINUSE).
 */
async function freePort(): Promise<number> {
  for (let tries = 0; ; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
    if (tries > 100) throw new Error('no free port in 20000-31999');
  }
}

/** CPU time (user + system) of a process in ms, from /proc. */
function cpuMsOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

function rssOf(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 180_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become healthy');
}

/** Spawns the engine or the bare pipeline against the fakes (see file header). */
export async function spawnBenchServer(kind: PipelineKind, p: BenchProviders): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = kind === 'engine' ? fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-bench-')) : null;
  const common = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PORT: String(port),
    HOST: '127.0.0.1',
    DEEPGRAM_API_KEY: 'test-deepgram-key',
    DEEPGRAM_URL: p.deepgramUrl,
    OPENAI_API_KEY: 'test-openai-key',
    OPENAI_BASE_URL: `${p.openaiUrl}/v1`,
    CARTESIA_API_KEY: 'test-cartesia-key',
    CARTESIA_URL: p.cartesiaUrl,
    TWILIO_AUTH_TOKEN: p.twilio.authToken,
    PUBLIC_URL: p.twilio.publicUrl,
    ...(p.databaseUrl ? { DATABASE_URL: p.databaseUrl } : {}),
  };
  const env =
    kind === 'engine'
      ? {
          ...common,
          DATA_DIR: dataDir!,
          LOG_LEVEL: 'error',
          MAX_CONCURRENT_CALLS: String(p.maxCalls),
          DEEPGRAM_ENDPOINTING_MS: String(p.endpointingMs),
          TWILIO_ACCOUNT_SID: p.twilio.accountSid,
          TWILIO_API_URL: p.twilio.restUrl,
          DASHBOARD_TOKEN: 'bench-dashboard-token',
        }
      : { ...common, OPENAI_MODEL: BASELINE_MODEL, BARE_ENDPOINTING_MS: String(p.endpointingMs) };
  const profile = process.env.BENCH_CPU_PROF;
  const child = spawn(
    process.execPath,
    [
      ...(profile
        ? // One folder per server: every thread (main, PGlite worker, loader) writes its own profile.
          ['--cpu-prof', `--cpu-prof-dir=${path.join(profile, `${kind}-${port}`)}`]
        : []),
      '--import',
      'tsx',
      '--import',
      './bench/loop-probe.ts',
      kind === 'engine' ? 'src/main.ts' : 'bench/bare-pipeline.ts',
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(url, child);
  } catch (err) {
    await stop();
    throw err;
  }
  const pid = child.pid!;
  return {
    kind,
    url,
    pid,
    cpuMs: () => cpuMsOf(pid),
    rssBytes: () => rssOf(pid),
    resetLoop: () => void child.send('reset'),
    readLoop: () =>
      new Promise<LoopReading>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${kind}: no event-loop reading`)), 10_000);
        child.once('message', (m) => {
          clearTimeout(timer);
          resolve(m as LoopReading);
        });
        child.send('read');
      }),
    stop,
  };
}
