/**
 * Engine vs bare pipeline, in one run: caller-stops-speaking -> first bot audio per turn type at two
 * provider-delay settings, and a capacity run (CPU per call, event-loop delay, RSS) at N calls.
 *
 * Both pipelines are their own processes (bench/bench-servers.ts): the engine (`src/main.ts`, as in
 * production) and the bare pipeline (bench/bare-pipeline.ts: the same SDKs, one LLM stream per
 * final transcript, no machines, no storage). The protocol fakes (Deepgram, OpenAI, Cartesia,
 * Twilio REST) and the simulated Twilio callers run in this process, so one clock times both ends;
 * the same callers (bench/call-script.ts) drive both pipelines against the same fakes.
 *
 * Delay settings: LLM TTFB (every chat-completions stream, so a turn with two round trips pays it
 * twice), TTS TTFB (first chunk of every Cartesia context) and the bare pipeline's Deepgram
 * `endpointing` (the fake ends a segment after that much silence). The engine asks Deepgram for its
 * own endpointing; the table says what each asked. "Zero delay" uses 120 ms endpointing for the bare
 * pipeline: the test utterances pause up to 100 ms between words, and a shorter endpointing would
 * answer half sentences.
 *
 * Run: `npm run bench -- latency [--quick]`, or `npx tsx bench/call-latency.ts [--quick]`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { startCartesiaFake } from '../test/fakes/cartesia-server.js';
import {
  startDeepgramFake,
  type DeepgramFake,
  type DeepgramSessionRecord,
} from '../test/fakes/deepgram-server.js';
import { startOpenAIFake } from '../test/fakes/openai-server.js';
import { startTwilioCall, type TwilioCall } from '../test/fakes/twilio-caller.js';
import { startTwilioRestFake, type TwilioRestFake } from '../test/fakes/twilio-rest.js';
import { spawnBenchServer, type BenchServer, type LoopReading, type PipelineKind } from './bench-servers.js';
import {
  deepgramScript,
  driveCall,
  llmScript,
  pause,
  TURN_TYPES,
  type CallLength,
  type TurnSample,
} from './call-script.js';

/** One provider-delay setting. */
export interface DelayProfile {
  name: string;
  llmTtfbMs: number;
  ttsTtfbMs: number;
  /** The bare pipeline's Deepgram `endpointing`. */
  baselineEndpointingMs: number;
}

export const DELAY_PROFILES: DelayProfile[] = [
  { name: 'zero provider delay', llmTtfbMs: 0, ttsTtfbMs: 0, baselineEndpointingMs: 120 },
  {
    name: 'LLM TTFB 300 ms, TTS TTFB 100 ms, STT endpointing 300 ms',
    llmTtfbMs: 300,
    ttsTtfbMs: 100,
    baselineEndpointingMs: 300,
  },
];

const AUTH_TOKEN = 'bench-twilio-token';
const PUBLIC_URL = 'https://statecall.bench.test';
/** Cartesia fake audio per character: short enough to keep the bench quick, long enough to barge in. */
const MS_PER_CHAR = 5;

/** Samples of one pipeline, and what it asked Deepgram for. */
export interface PipelineSamples {
  samples: TurnSample[];
  endpointing: string;
}

/** Result of one delay profile. */
export interface ProfileResult {
  profile: DelayProfile;
  callsPerPipeline: number;
  byPipeline: Record<PipelineKind, PipelineSamples>;
}

/** Result of one capacity run of one pipeline. */
export interface CapacityResult {
  pipeline: PipelineKind;
  calls: number;
  samples: TurnSample[];
  /** Server CPU per call over the run, ms, and as a share of one core while the run lasted. */
  cpuMsPerCall: number;
  coresPerCall: number;
  loop: LoopReading;
  idleRssBytes: number;
  peakRssBytes: number;
  /** Event-loop delay p99 of this (the callers' and fakes') process: high = the harness is the bottleneck. */
  harnessLoopP99Ms: number;
  wallMs: number;
}

interface Fakes {
  deepgram: DeepgramFake;
  rest: TwilioRestFake;
  providers: Parameters<typeof spawnBenchServer>[1];
  close(): Promise<void>;
}

async function startFakes(profile: DelayProfile, length: CallLength, maxCalls: number): Promise<Fakes> {
  const deepgram = await startDeepgramFake({ utterances: deepgramScript(length) });
  const openai = await startOpenAIFake({ replies: llmScript(profile.llmTtfbMs) });
  const cartesia = await startCartesiaFake({ msPerChar: MS_PER_CHAR, ttfbMs: profile.ttsTtfbMs });
  const rest = await startTwilioRestFake({ authToken: AUTH_TOKEN });
  rest.events.setMaxListeners(0); // one `hangup` listener per simulated call
  return {
    deepgram,
    rest,
    providers: {
      deepgramUrl: deepgram.url,
      openaiUrl: openai.url,
      cartesiaUrl: cartesia.url,
      twilio: {
        accountSid: rest.accountSid,
        authToken: AUTH_TOKEN,
        restUrl: rest.url,
        publicUrl: PUBLIC_URL,
      },
      baselineEndpointingMs: profile.baselineEndpointingMs,
      maxCalls: maxCalls + 10,
    },
    close: async () => {
      await Promise.all([deepgram.close(), openai.close(), cartesia.close(), rest.close()]);
    },
  };
}

interface PlacedCall {
  call: TwilioCall;
  startedAt: number;
  session: DeepgramSessionRecord | undefined;
}

/**
 * Places calls one at a time (a chain), so the Deepgram connection that appears next belongs to
 * the call just placed: that pairs each call with its transcripts.
 */
function callPlacer(fakes: Fakes) {
  let chain: Promise<unknown> = Promise.resolve();
  let n = 0;
  return (server: BenchServer): Promise<PlacedCall> => {
    const placed = chain.then(async () => {
      const before = fakes.deepgram.sessions.length;
      const call = await startTwilioCall({
        serverBaseUrl: server.url,
        from: `+1555${String(n++).padStart(7, '0')}`,
        to: '+15557654321',
        authToken: AUTH_TOKEN,
        publicUrl: PUBLIC_URL,
        rest: fakes.rest,
      });
      const startedAt = performance.now();
      const session = await fakes.deepgram.waitForSession(before, 10_000).catch(() => undefined);
      return { call, startedAt, session };
    });
    chain = placed.catch(() => {});
    return placed;
  };
}

/** A production server is warm: the first call pays module loading and JIT, so it isn't measured. */
async function warmUp(place: ReturnType<typeof callPlacer>, servers: BenchServer[]): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      const p = await place(server);
      await driveCall(p.call, { ...p, length: 'warmup' }).catch(() => p.call.terminate());
    }),
  );
}

/** Runs both pipelines side by side at one delay setting, `calls` calls each (see file header). */
export async function runProfile(
  profile: DelayProfile,
  calls: number,
  log: (line: string) => void = () => {},
): Promise<ProfileResult> {
  const fakes = await startFakes(profile, 'full', calls);
  const servers: BenchServer[] = [];
  try {
    servers.push(
      ...(await Promise.all(
        (['engine', 'baseline'] as const).map((k) => spawnBenchServer(k, fakes.providers)),
      )),
    );
    const place = callPlacer(fakes);
    await warmUp(place, servers);
    log(`  ${profile.name}: servers up and warm`);
    log(`  ${profile.name}: ${calls} call(s) per pipeline, engine and bare pipeline side by side`);
    const runs: Array<
      Promise<{ kind: PipelineKind; samples: TurnSample[]; session?: DeepgramSessionRecord }>
    > = [];
    for (let i = 0; i < calls; i++) {
      for (const s of servers) {
        const p = await place(s);
        runs.push(
          driveCall(p.call, { ...p, length: 'full' }).then((samples) => ({
            kind: s.kind,
            samples,
            ...(p.session ? { session: p.session } : {}),
          })),
        );
      }
      await pause(700); // spread the calls so their turns don't all land together
    }
    const done = await Promise.all(runs);
    log(`  ${profile.name}: done`);
    const of = (kind: PipelineKind): PipelineSamples => ({
      samples: done.filter((d) => d.kind === kind).flatMap((d) => d.samples),
      endpointing: String(done.find((d) => d.kind === kind)?.session?.query.endpointing ?? 'default'),
    });
    return {
      profile,
      callsPerPipeline: calls,
      byPipeline: { engine: of('engine'), baseline: of('baseline') },
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await fakes.close();
  }
}

/** `calls` concurrent short calls against one pipeline at zero provider delay (see file header). */
export async function runCapacity(
  pipeline: PipelineKind,
  calls: number,
  log: (line: string) => void = () => {},
): Promise<CapacityResult> {
  const fakes = await startFakes(DELAY_PROFILES[0]!, 'short', calls);
  let server: BenchServer | null = null;
  const placed: PlacedCall[] = [];
  try {
    server = await spawnBenchServer(pipeline, fakes.providers);
    const place = callPlacer(fakes);
    await warmUp(place, [server]);
    log(`  ${pipeline}: server up and warm`);
    const idleRssBytes = server.rssBytes();
    let peakRssBytes = idleRssBytes;
    const rssTimer = setInterval(() => (peakRssBytes = Math.max(peakRssBytes, server!.rssBytes())), 250);
    const harness = monitorEventLoopDelay({ resolution: 10 });
    harness.enable();
    server.resetLoop();
    const cpuBefore = server.cpuMs();
    const started = performance.now();
    const runs: Array<Promise<TurnSample[]>> = [];
    for (let i = 0; i < calls; i++) {
      const p = await place(server);
      placed.push(p);
      // Each call starts talking at its own moment within two seconds: real calls don't turn together.
      runs.push(pause((i * 397) % 2000).then(() => driveCall(p.call, { ...p, length: 'short' })));
    }
    log(`  ${pipeline}: ${calls} calls connected in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const samples = (await Promise.all(runs)).flat();
    log(`  ${pipeline}: ${calls} calls done`);
    const wallMs = performance.now() - started;
    const cpuMs = server.cpuMs() - cpuBefore;
    const loop = await server.readLoop();
    clearInterval(rssTimer);
    harness.disable();
    return {
      pipeline,
      calls,
      samples,
      cpuMsPerCall: cpuMs / calls,
      coresPerCall: cpuMs / wallMs / calls,
      loop,
      idleRssBytes,
      peakRssBytes,
      harnessLoopP99Ms: harness.percentile(99) / 1e6,
      wallMs,
    };
  } finally {
    for (const p of placed) p.call.terminate();
    await server?.stop();
    await fakes.close();
  }
}

// ---------------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------------

/** Nearest-rank quantile of ascending values. */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1))]!;
}

function stats(values: number[]) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return { n: s.length, p50: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99) };
}

const ms = (n: number) => (Number.isFinite(n) ? `${Math.round(n)}` : '–');
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '–';
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

/** Markdown table of one delay profile: per turn type, engine vs bare pipeline. */
export function formatProfile(r: ProfileResult): string[] {
  const { engine, baseline } = r.byPipeline;
  const lines = [
    `${r.profile.name}: caller stops speaking -> first bot audio, ms (p50 / p90 / p99; ${r.callsPerPipeline} call(s) each; Deepgram endpointing asked: engine ${engine.endpointing}, bare pipeline ${baseline.endpointing})`,
    '',
    '| turn | engine | bare pipeline | engine/bare p50 | STT final -> audio p50, engine / bare |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const turn of TURN_TYPES) {
    const e = engine.samples.filter((s) => s.turn === turn);
    const b = baseline.samples.filter((s) => s.turn === turn);
    const es = stats(e.map((s) => s.latencyMs));
    const bs = stats(b.map((s) => s.latencyMs));
    const notCleared = [...e, ...b].filter((s) => s.cleared === false).length;
    lines.push(
      `| ${turn}${notCleared ? ` (${notCleared} without clear)` : ''} | ${ms(es.p50)} / ${ms(es.p90)} / ${ms(es.p99)} | ${ms(bs.p50)} / ${ms(bs.p90)} / ${ms(bs.p99)} | ${ratio(es.p50, bs.p50)} | ${ms(stats(e.map((s) => s.sttFinalToAudioMs)).p50)} / ${ms(stats(b.map((s) => s.sttFinalToAudioMs)).p50)} |`,
    );
  }
  return lines;
}

/** Markdown table of one capacity level: engine vs bare pipeline. */
export function formatCapacity(engine: CapacityResult, baseline: CapacityResult): string[] {
  const row = (what: string, e: string, b: string, r: string) => `| ${what} | ${e} | ${b} | ${r} |`;
  const lat = (c: CapacityResult) =>
    stats(c.samples.filter((s) => s.turn !== 'greeting').map((s) => s.latencyMs));
  const stt = (c: CapacityResult) => stats(c.samples.map((s) => s.sttFinalToAudioMs));
  const [el, bl, es, bs] = [lat(engine), lat(baseline), stt(engine), stt(baseline)];
  return [
    `${engine.calls} concurrent calls, zero provider delay (${el.n} / ${bl.n} timed caller turns; harness event-loop p99 ${ms(engine.harnessLoopP99Ms)} / ${ms(baseline.harnessLoopP99Ms)} ms)`,
    '',
    '| measure | engine | bare pipeline | engine/bare |',
    '| --- | --- | --- | --- |',
    row(
      'caller stops -> first audio p50 / p99',
      `${ms(el.p50)} / ${ms(el.p99)} ms`,
      `${ms(bl.p50)} / ${ms(bl.p99)} ms`,
      `${ratio(el.p50, bl.p50)} / ${ratio(el.p99, bl.p99)}`,
    ),
    row(
      'STT final -> first audio p50 / p99',
      `${ms(es.p50)} / ${ms(es.p99)} ms`,
      `${ms(bs.p50)} / ${ms(bs.p99)} ms`,
      `${ratio(es.p50, bs.p50)} / ${ratio(es.p99, bs.p99)}`,
    ),
    row(
      'CPU per call (share of a core)',
      engine.coresPerCall.toFixed(4),
      baseline.coresPerCall.toFixed(4),
      ratio(engine.coresPerCall, baseline.coresPerCall),
    ),
    row(
      'CPU per call (ms over the call)',
      ms(engine.cpuMsPerCall),
      ms(baseline.cpuMsPerCall),
      ratio(engine.cpuMsPerCall, baseline.cpuMsPerCall),
    ),
    row(
      'server event-loop delay p99',
      `${engine.loop.p99Ms.toFixed(1)} ms`,
      `${baseline.loop.p99Ms.toFixed(1)} ms`,
      ratio(engine.loop.p99Ms, baseline.loop.p99Ms),
    ),
    row(
      'RSS peak (idle after warm-up)',
      `${mb(engine.peakRssBytes)} (${mb(engine.idleRssBytes)})`,
      `${mb(baseline.peakRssBytes)} (${mb(baseline.idleRssBytes)})`,
      ratio(engine.peakRssBytes, baseline.peakRssBytes),
    ),
  ];
}

/** What `--quick` and the full run do. */
export function latencyPlan(quick: boolean): { callsPerProfile: number; capacityLevels: number[] } {
  const levels = process.env.BENCH_CALLS?.split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  return {
    callsPerProfile: quick ? 2 : 6,
    capacityLevels: levels?.length ? levels : quick ? [50] : [50, 200],
  };
}

/** The whole latency bench: both delay profiles, then capacity; returns the markdown tables. */
export async function runLatencyBench(opts: {
  quick: boolean;
  log?: (line: string) => void;
}): Promise<string[]> {
  const t0 = performance.now();
  const log = (line: string) =>
    opts.log?.(
      line.startsWith('  ') ? `  [${((performance.now() - t0) / 1000).toFixed(0)} s]${line.slice(1)}` : line,
    );
  const plan = latencyPlan(opts.quick);
  const out: string[] = [];
  // Quick mode runs the two delay settings at the same time (a few calls each: the machine idles).
  const profiles = opts.quick
    ? await Promise.all(DELAY_PROFILES.map((p) => runProfile(p, plan.callsPerProfile, log)))
    : await DELAY_PROFILES.reduce<Promise<ProfileResult[]>>(
        async (acc, p) => [...(await acc), await runProfile(p, plan.callsPerProfile, log)],
        Promise.resolve([]),
      );
  for (const r of profiles) {
    const table = formatProfile(r);
    for (const line of table) log(line);
    out.push(...table, '');
  }
  for (const calls of plan.capacityLevels) {
    const engine = await runCapacity('engine', calls, log);
    const baseline = await runCapacity('baseline', calls, log);
    const table = formatCapacity(engine, baseline);
    for (const line of table) log(line);
    out.push(...table, '');
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runLatencyBench({ quick: process.argv.includes('--quick'), log: console.log });
}
