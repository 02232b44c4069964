/**
 * Engine-added latency per turn, at N concurrent phone calls, and CPU per call.
 *
 * The server runs as its own process (`tsx src/main.ts`, as in production), with the real SDKs
 * pointed at protocol fakes at zero delay (Deepgram, OpenAI, Cartesia, Twilio REST) that run in
 * this process together with the simulated Twilio callers. So one clock serves both ends:
 *
 *   engine-added latency = first media frame reaching the caller
 *                          − the Deepgram fake writing the `speech_final` Results of that turn
 *
 * Everything between (SDK parsing, the call machine, the claim machine, two LLM round trips with
 * a tool call, sentence splitting, TTS, Twilio framing, the event loop under load) is the engine's.
 * Each turn is the caller asking "can you repeat that?" in the `initial` state, whose turn policy
 * adds no endpointing patience, so no deliberate wait is counted. CPU per call is the server
 * process's user+system CPU time (from /proc) over the calls, divided by the number of calls.
 *
 * Run: `npm run bench -- latency` (see bench/run.ts), or `npx tsx bench/call-latency.ts 1 50`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startCartesiaFake } from '../test/fakes/cartesia-server.js';
import { startDeepgramFake } from '../test/fakes/deepgram-server.js';
import { loadAudioFixture } from '../test/fakes/fixtures.js';
import { startOpenAIFake } from '../test/fakes/openai-server.js';
import { startTwilioCall, type TwilioCall } from '../test/fakes/twilio-caller.js';
import { startTwilioRestFake } from '../test/fakes/twilio-rest.js';
import { sayAndWait, waitForBotToFinish } from '../test/support/phone-harness.js';
import { scriptedClaimModel } from '../test/support/scripted-llm.js';

/** Result of one concurrency level. */
export interface CallLatencyResult {
  calls: number;
  samples: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  /** Server process CPU time per call (user + system), ms. */
  cpuMsPerCall: number;
  /** The same as a share of one core while the call lasts, %. */
  cpuPercentPerCall: number;
  /** Event-loop delay p99 of the bench process (callers + fakes), ms: high = the harness, not the engine, is the bottleneck. */
  harnessLoopP99Ms: number;
  wallMs: number;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const AUTH_TOKEN = 'bench-twilio-token';
const PUBLIC_URL = 'https://statecall.bench.test';
const CLK_TCK = 100; // Linux USER_HZ

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** CPU time (user + system) of a process in ms, from /proc; null where /proc is missing. */
function cpuMsOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become healthy');
}

/** Runs `calls` concurrent calls of `turns` caller turns each (see file header). */
export async function runCallLatencyBench(opts: {
  calls: number;
  turns?: number;
  log?: (line: string) => void;
}): Promise<CallLatencyResult> {
  const log = opts.log ?? (() => {});
  const turns = opts.turns ?? (opts.calls === 1 ? 10 : 3);
  const deepgram = await startDeepgramFake({ utterances: () => 'Can you repeat that?' });
  const openai = await startOpenAIFake({ replies: scriptedClaimModel() });
  const cartesia = await startCartesiaFake({ msPerChar: 15 });
  const rest = await startTwilioRestFake({ authToken: AUTH_TOKEN });
  rest.events.setMaxListeners(0); // one `hangup` listener per simulated call
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      '--import',
      'tsx',
      'src/main.ts',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'error',
        MAX_CONCURRENT_CALLS: String(opts.calls + 10),
        DEEPGRAM_API_KEY: 'test-deepgram-key',
        DEEPGRAM_URL: deepgram.url,
        OPENAI_API_KEY: 'test-openai-key',
        OPENAI_BASE_URL: `${openai.url}/v1`,
        CARTESIA_API_KEY: 'test-cartesia-key',
        CARTESIA_URL: cartesia.url,
        TWILIO_ACCOUNT_SID: rest.accountSid,
        TWILIO_AUTH_TOKEN: AUTH_TOKEN,
        TWILIO_API_URL: rest.url,
        PUBLIC_URL,
        DASHBOARD_TOKEN: 'bench-dashboard-token',
      },
    },
  );
  const calls: TwilioCall[] = [];
  try {
    await waitForHealth(url, child);
    const audio = loadAudioFixture('can-you-repeat-that');
    // Warm-up (not measured): a production server is warm; the first call pays module loading and JIT.
    const warm = await startTwilioCall({
      serverBaseUrl: url,
      from: '+15559990000',
      to: '+15557654321',
      authToken: AUTH_TOKEN,
      publicUrl: PUBLIC_URL,
      rest,
      speedup: 4,
    });
    await waitForBotToFinish(warm, 0, 60_000);
    await sayAndWait(warm, audio, { speedup: 4 });
    await warm.hangUp();
    const firstSession = deepgram.sessions.length;
    const mediaTimes: number[][] = [];
    const cpuBefore = cpuMsOf(child.pid!);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const started = performance.now();
    // Calls start one by one so call i is served by Deepgram session i (the latency pairing).
    for (let i = 0; i < opts.calls; i++) {
      const call = await startTwilioCall({
        serverBaseUrl: url,
        from: `+1555000${String(i).padStart(4, '0')}`,
        to: '+15557654321',
        authToken: AUTH_TOKEN,
        publicUrl: PUBLIC_URL,
        rest,
      });
      const times: number[] = [];
      call.on('media', () => times.push(performance.now()));
      calls.push(call);
      mediaTimes.push(times);
      await deepgram.waitForSession(firstSession + i, 10_000);
    }
    log(`  ${opts.calls} call(s) connected; ${turns} turns each`);
    await Promise.all(
      calls.map(async (call) => {
        await waitForBotToFinish(call, 0, 60_000);
        for (let t = 0; t < turns; t++) await sayAndWait(call, audio);
      }),
    );
    const wallMs = performance.now() - started;
    const cpuAfter = cpuMsOf(child.pid!);
    loop.disable();

    const latencies: number[] = [];
    deepgram.sessions.slice(firstSession, firstSession + opts.calls).forEach((session, i) => {
      const times = mediaTimes[i]!;
      session.sent.forEach((m, k) => {
        const alt = (m.channel as { alternatives?: { transcript?: string }[] } | undefined)?.alternatives;
        if (m.type !== 'Results' || m.speech_final !== true || !alt?.[0]?.transcript) return;
        const sentAt = session.sentAt[k]!;
        const first = times.find((t) => t > sentAt);
        if (first !== undefined) latencies.push(first - sentAt);
      });
    });
    latencies.sort((a, b) => a - b);
    return {
      calls: opts.calls,
      samples: latencies.length,
      medianMs: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      maxMs: latencies.at(-1) ?? NaN,
      cpuMsPerCall: cpuBefore !== null && cpuAfter !== null ? (cpuAfter - cpuBefore) / opts.calls : NaN,
      wallMs,
      cpuPercentPerCall:
        cpuBefore !== null && cpuAfter !== null ? ((cpuAfter - cpuBefore) / opts.calls / wallMs) * 100 : NaN,
      harnessLoopP99Ms: loop.percentile(99) / 1e6,
    };
  } finally {
    for (const c of calls) c.terminate();
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    await Promise.all([deepgram.close(), openai.close(), cartesia.close(), rest.close()]);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One summary line. */
export function formatCallLatency(r: CallLatencyResult): string {
  const f = (n: number) => n.toFixed(1);
  return `${r.calls} concurrent call(s): engine-added latency median ${f(r.medianMs)} ms, p99 ${f(r.p99Ms)} ms, max ${f(r.maxMs)} ms (${r.samples} turns); server CPU ${f(r.cpuMsPerCall)} ms per call (${f(r.cpuPercentPerCall)}% of a core per call over ${f(r.wallMs / 1000)} s); harness event-loop p99 ${f(r.harnessLoopP99Ms)} ms`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const levels = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  for (const calls of levels.length ? levels : [1, 50]) {
    const r = await runCallLatencyBench({ calls, log: console.log });
    console.log(formatCallLatency(r));
  }
}
