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
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { pathToFileURL } from 'node:url';
import { startTwilioCall, type TwilioCall } from '../test/fakes/twilio-caller.js';
import { startTwilioRestFake, type TwilioRestFake } from '../test/fakes/twilio-rest.js';
import { spawnBenchServer, type BenchServer, type LoopReading, type PipelineKind } from './bench-servers.js';
import {
  driveCall,
  epochNow,
  pause,
  TURN_TYPES,
  UNFINISHED_PAUSE_MS,
  wordsKey,
  type CallLength,
  type EngineWords,
  type TurnSample,
} from './call-script.js';
import { startProviderFakes, type ProviderFakes } from './provider-fakes.js';

/** One provider-delay setting. */
export interface DelayProfile {
  name: string;
  llmTtfbMs: number;
  ttsTtfbMs: number;
  /** Deepgram `endpointing` both pipelines ask for (the fake ends a segment after that much silence). */
  endpointingMs: number;
}

export const DELAY_PROFILES: DelayProfile[] = [
  { name: 'zero provider delay', llmTtfbMs: 0, ttsTtfbMs: 0, endpointingMs: 120 },
  {
    name: 'LLM TTFB 300 ms, TTS TTFB 100 ms, STT endpointing 300 ms',
    llmTtfbMs: 300,
    ttsTtfbMs: 100,
    endpointingMs: 300,
  },
];

const AUTH_TOKEN = 'bench-twilio-token';
const PUBLIC_URL = 'https://statecall.bench.test';
/**
 * Cartesia fake audio per character: 20 ms, about three times a real voice's pace (≈ 65 ms), so
 * the bench stays quick while the read-back (≈ 145 characters, 2.9 s) is long enough to barge into
 * one second in. Both pipelines speak the same words (engineWords), so both send the same audio.
 */
const MS_PER_CHAR = 20;

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

/** What a capacity run measures: the bare pipeline, or the engine on one of its stores. */
export type CapacitySubject = 'baseline' | 'engine' | 'engine+postgres';

/** Result of one capacity run of one pipeline. */
export interface CapacityResult {
  pipeline: CapacitySubject;
  calls: number;
  samples: TurnSample[];
  /** Server CPU per call over the run, ms, and as a share of one core while the run lasted. */
  cpuMsPerCall: number;
  coresPerCall: number;
  loop: LoopReading;
  idleRssBytes: number;
  peakRssBytes: number;
  /** Event-loop delay p99 of the callers' process (this one): high = the harness is the bottleneck. */
  harnessLoopP99Ms: number;
  /** CPU of the callers' process and of the provider fakes' process over the run, ms. */
  harnessCpuMs: { callers: number; fakes: number };
  wallMs: number;
  /** Per call: media frames the caller sent and bot audio it received (the same work for both?). */
  framesPerCall: number;
  audioKbPerCall: number;
  /** Most calls connected at one moment (they arrive every ARRIVAL_MS, however fast they connect). */
  peakConcurrent: number;
  /** Subjects run at the same time in this run (1: alone; see runCapacityWindow). */
  together: number;
}

interface Fakes {
  /** Deepgram, OpenAI and Cartesia, in their own process (bench/provider-fakes.ts). */
  remote: ProviderFakes;
  /** The Twilio REST fake stays here: it tells the callers in this process of REST hang-ups. */
  rest: TwilioRestFake;
  providers: Parameters<typeof spawnBenchServer>[1];
  close(): Promise<void>;
}

async function startFakes(
  profile: DelayProfile,
  length: CallLength,
  maxCalls: number,
  engineWords?: EngineWords,
): Promise<Fakes> {
  const remote = await startProviderFakes({
    llmTtfbMs: profile.llmTtfbMs,
    ttsTtfbMs: profile.ttsTtfbMs,
    length,
    msPerChar: MS_PER_CHAR,
    ...(engineWords ? { engineWords } : {}),
  });
  const rest = await startTwilioRestFake({ authToken: AUTH_TOKEN });
  rest.events.setMaxListeners(0); // one `hangup` listener per simulated call
  return {
    remote,
    rest,
    providers: {
      deepgramUrl: remote.deepgramUrl,
      openaiUrl: remote.openaiUrl,
      cartesiaUrl: remote.cartesiaUrl,
      twilio: {
        accountSid: rest.accountSid,
        authToken: AUTH_TOKEN,
        restUrl: rest.url,
        publicUrl: PUBLIC_URL,
      },
      endpointingMs: profile.endpointingMs,
      maxCalls: maxCalls + 10,
    },
    close: async () => {
      await Promise.all([remote.close(), rest.close()]);
    },
  };
}

interface PlacedCall {
  call: TwilioCall;
  /** Epoch ms (see epochNow). */
  startedAt: number;
  /** What the call's Deepgram connection asked for. */
  endpointing: string;
  /** The call the caller plays (its Deepgram connection hears that script). */
  length: CallLength;
  /** Epoch ms of every `media` message the call received, from its start. */
  media: number[];
  finals: () => Promise<number[]>;
}

/**
 * A call's mark in its line silence: ten near-silent mu-law codes (at most ±30 of 8159) spelling
 * its number, so the Deepgram fake can tell which connection carries which call however many are
 * placed at once (no VAD hears them; the fake transcribes by script, not by sound).
 */
export function silenceTag(n: number): { tag: number[]; frame: Buffer } {
  const digits = [12, 8, 4, 0].map((shift) => 0xf0 | ((n >> shift) & 0xf));
  const tag = [0x7e, 0xfe, 0x7e, 0xfe, ...digits, 0xfe, 0x7e];
  const frame = Buffer.alloc(160, 0xff);
  Buffer.from(tag).copy(frame, 0);
  return { tag, frame };
}

/** Capacity calls arrive one every this many ms (200 calls in 4 s). */
const ARRIVAL_MS = 20;

/**
 * Places calls, any number at once: each call's silence carries its tag, and the Deepgram
 * connection that hears the tag is that call's (its script, its finals).
 */
function callPlacer(fakes: Fakes) {
  let n = 0;
  return async (server: BenchServer, length: CallLength = 'full'): Promise<PlacedCall> => {
    const k = n++;
    const { tag, frame } = silenceTag(k);
    const call = await startTwilioCall({
      serverBaseUrl: server.url,
      from: `+1555${String(k).padStart(7, '0')}`,
      to: '+15557654321',
      authToken: AUTH_TOKEN,
      publicUrl: PUBLIC_URL,
      rest: fakes.rest,
      silenceFrame: frame,
    });
    const startedAt = epochNow();
    // The greeting can arrive while the call's connection is being found: record from now.
    const media: number[] = [];
    call.on('media', () => media.push(epochNow()));
    const index = await fakes.remote.sessionTagged(tag);
    if (index < 0) {
      call.terminate();
      throw new Error(`call ${k}: no Deepgram connection carried its audio within 10 s`);
    }
    const { endpointing } = await fakes.remote.session(index);
    await fakes.remote.assign(index, length);
    return { call, startedAt, endpointing, length, media, finals: () => fakes.remote.finals(index) };
  };
}

/** A production server is warm: the first call pays module loading and JIT, so it isn't measured. */
async function warmUp(place: ReturnType<typeof callPlacer>, servers: BenchServer[]): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      const p = await place(server, 'warmup');
      await driveCall(p.call, p).catch(() => p.call.terminate());
    }),
  );
}

let rehearsal: Promise<EngineWords> | null = null;

/**
 * What the engine says in a whole call, learned once per bench process from one rehearsal call at
 * zero delay (the Cartesia fake records every context's words): the bare pipeline then speaks the
 * same words to the same caller words, so both send the same audio per call and CPU and memory
 * per call compare like for like (the scripted model's own words for the bare pipeline were up to
 * four times longer than the engine's, which made its calls longer and its per-call costs look
 * higher). The key of each reply is the caller utterance before it (wordsKey); the greeting's is ''.
 */
export function engineWords(log: (line: string) => void = () => {}): Promise<EngineWords> {
  rehearsal ??= (async () => {
    const fakes = await startFakes(DELAY_PROFILES[0]!, 'full', 1);
    let server: BenchServer | null = null;
    try {
      server = await spawnBenchServer('engine', fakes.providers);
      const place = callPlacer(fakes);
      const p = await place(server, 'full');
      const ends: Array<{ key: string; endAt: number }> = [];
      await driveCall(p.call, {
        ...p,
        onTurnEnd: (text, endAt) => ends.push({ key: wordsKey(text), endAt }),
      });
      const spoken = await fakes.remote.spoken();
      const words: EngineWords = {};
      const between = (from: number, to: number) =>
        spoken
          .filter((c) => c.at > from && c.at <= to && c.text)
          .map((c) => c.text)
          .join(' ');
      words[''] = between(0, ends[0]?.endAt ?? Infinity);
      ends.forEach((e, i) => {
        const said = between(e.endAt, ends[i + 1]?.endAt ?? Infinity);
        if (said && !words[e.key]) words[e.key] = said;
      });
      log(`  rehearsal: the engine's words for ${Object.keys(words).length} caller turns learned`);
      return words;
    } finally {
      await server?.stop();
      await fakes.close();
    }
  })();
  return rehearsal;
}

/** Runs both pipelines side by side at one delay setting, `calls` calls each (see file header). */
export async function runProfile(
  profile: DelayProfile,
  calls: number,
  log: (line: string) => void = () => {},
): Promise<ProfileResult> {
  const fakes = await startFakes(profile, 'full', calls, await engineWords(log));
  const servers: BenchServer[] = [];
  try {
    // Both spawns settle before a failure is thrown, so the `finally` stops whichever did start.
    const spawned = await Promise.allSettled(
      (['engine', 'baseline'] as const).map((k) => spawnBenchServer(k, fakes.providers)),
    );
    for (const r of spawned) if (r.status === 'fulfilled') servers.push(r.value);
    const failed = spawned.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const place = callPlacer(fakes);
    await warmUp(place, servers);
    log(`  ${profile.name}: servers up and warm`);
    log(`  ${profile.name}: ${calls} call(s) per pipeline, engine and bare pipeline side by side`);
    const runs: Array<Promise<{ kind: PipelineKind; samples: TurnSample[]; endpointing: string }>> = [];
    for (let i = 0; i < calls; i++) {
      // Each caller plays the whole claim; as many again answer the date in two parts (patience).
      for (const [s, length] of servers.flatMap((s) => [[s, 'full'] as const, [s, 'patience'] as const])) {
        const p = await place(s, length);
        runs.push(
          driveCall(p.call, p).then((samples) => ({
            kind: s.kind,
            samples,
            endpointing: p.endpointing,
          })),
        );
      }
      await pause(700); // spread the calls so their turns don't all land together
    }
    const done = await Promise.all(runs);
    log(`  ${profile.name}: done`);
    const of = (kind: PipelineKind): PipelineSamples => ({
      samples: done.filter((d) => d.kind === kind).flatMap((d) => d.samples),
      endpointing: done.find((d) => d.kind === kind)?.endpointing ?? 'none',
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

/**
 * A throwaway schema on `url` for one engine run; `drop()` removes it with everything in it
 * (`BENCH_KEEP_SCHEMA=1` keeps it, to read the rows a run stored).
 */
async function throwawaySchema(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `statecall_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create schema "${schema}"`);
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: u.toString(),
    drop: () =>
      process.env.BENCH_KEEP_SCHEMA ? Promise.resolve() : admin(`drop schema if exists "${schema}" cascade`),
  };
}

/** Capacity warm-up: batches of this many short calls per server (at most the level's). */
const WARM_CALLS = 50;
/** At most this many warm-up batches; a server is warm once a batch costs what the last did. */
const WARM_BATCHES_MAX = 6;
/** "What the last did": CPU per call within this fraction of the previous batch's. */
const WARM_SETTLED = 0.05;

/**
 * Brings servers to their steady state before a capacity window: batches of `count` short calls
 * each (arriving on the capacity clock), until a batch's CPU per call is within 5% of the one
 * before (at most six batches). One call is not enough: V8 compiles a hot path with its
 * optimizing tier only once the path has run often. With a single warm-up call the engine's
 * window held ≈ 560 ms of background TurboFan compiles at 50 calls (11 ms per call; the bare
 * pipeline, with less code, 144 ms), and after 50 warm-up calls still ≈ 550 ms (its turn
 * function alone, run four times a call, took 130 ms to compile, first compiled after ≈ 100
 * calls): costs a server that has been up for minutes has long paid. Returns each server's CPU
 * per call of each batch, ms.
 */
async function warmUpForCapacity(
  place: ReturnType<typeof callPlacer>,
  servers: BenchServer[],
  count: number,
): Promise<number[][]> {
  const history: number[][] = servers.map(() => []);
  const settled = (h: number[]) =>
    h.length >= 2 && Math.abs(h.at(-1)! - h.at(-2)!) <= WARM_SETTLED * h.at(-2)!;
  for (let batch = 0; batch < WARM_BATCHES_MAX && !history.every(settled); batch++) {
    for (const s of servers) s.resetLoop();
    await Promise.all(
      servers.map((server) =>
        Promise.all(
          Array.from({ length: count }, async (_, i) => {
            await pause(i * ARRIVAL_MS);
            const p = await place(server, 'short');
            await driveCall(p.call, p).catch(() => p.call.terminate());
          }),
        ),
      ),
    );
    const readings = await Promise.all(servers.map((s) => s.readLoop()));
    readings.forEach((r, k) => history[k]!.push(r.cpuMs / count));
  }
  return history;
}

/** Capacity levels up to this many calls run every subject at once (see runCapacityWindow). */
export const TOGETHER_MAX_CALLS = 50;

/**
 * The servers of one capacity level, started and warmed once (a warm-up takes up to six batches
 * of calls) and measured by every round of the level: one set of fakes, one server per subject.
 */
export interface CapacityRig {
  subjects: CapacitySubject[];
  calls: number;
  servers: BenchServer[];
  fakes: Fakes;
  place: ReturnType<typeof callPlacer>;
  close(): Promise<void>;
}

/** Starts and warms a {@link CapacityRig} (`engine+postgres` in a throwaway schema of `databaseUrl`). */
export async function startCapacityRig(
  subjects: CapacitySubject[],
  calls: number,
  log: (line: string) => void = () => {},
  databaseUrl?: string,
): Promise<CapacityRig> {
  const fakes = await startFakes(DELAY_PROFILES[0]!, 'short', calls, await engineWords(log));
  const servers: BenchServer[] = [];
  const schemas: Array<Awaited<ReturnType<typeof throwawaySchema>>> = [];
  const close = async () => {
    for (const s of servers) await s.stop();
    await fakes.close();
    for (const schema of schemas) await schema.drop().catch(() => {});
  };
  try {
    for (const subject of subjects) {
      const schema = subject === 'engine+postgres' && databaseUrl ? await throwawaySchema(databaseUrl) : null;
      if (schema) schemas.push(schema);
      servers.push(
        await spawnBenchServer(subject === 'baseline' ? 'baseline' : 'engine', {
          ...fakes.providers,
          ...(schema ? { databaseUrl: schema.url } : {}),
        }),
      );
    }
    const place = callPlacer(fakes);
    const warm = await warmUpForCapacity(place, servers, Math.min(calls, WARM_CALLS));
    log(
      `  ${subjects.join(' + ')}: servers up and warm (CPU per warm-up call by batch: ${warm
        .map((h, k) => `${subjects[k]} ${h.map((x) => ms(x)).join(' > ')} ms`)
        .join('; ')})`,
    );
    return { subjects, calls, servers, fakes, place, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * One measuring window on a rig: `calls` concurrent short calls against each subject in `which`
 * (indices into the rig's subjects), all of them at the same time: their calls arrive interleaved
 * on one clock (each subject still gets one every ARRIVAL_MS), against one set of fakes. Run
 * together, the subjects meet the same moment of this shared machine, whose speed drifts by 20%
 * within half a minute (a fixed workload's CPU time, idle machine): one after the other, that
 * drift alone moved the engine/bare CPU ratio between 1.2x and 1.9x from round to round. The
 * harness figures (callers' and fakes' CPU) are then those of all subjects' calls.
 */
export async function runCapacityWindow(
  rig: CapacityRig,
  which: number[],
  log: (line: string) => void = () => {},
): Promise<CapacityResult[]> {
  const { fakes, place, calls } = rig;
  const subjects = which.map((k) => rig.subjects[k]!);
  const servers = which.map((k) => rig.servers[k]!);
  const placed: PlacedCall[][] = subjects.map(() => []);
  const label = subjects.join(' + ');
  const each = subjects.length > 1 ? ' each' : '';
  try {
    const idleRss = servers.map((s) => s.rssBytes());
    const peakRss = [...idleRss];
    const rssTimer = setInterval(
      () => servers.forEach((s, k) => (peakRss[k] = Math.max(peakRss[k]!, s.rssBytes()))),
      250,
    );
    const harness = monitorEventLoopDelay({ resolution: 10 });
    harness.enable();
    for (const s of servers) s.resetLoop();
    const callersCpu = process.cpuUsage();
    const fakesCpu = await fakes.remote.cpuMs();
    const started = performance.now();
    const runs: Array<Array<Promise<TurnSample[]>>> = subjects.map(() => []);
    const live = subjects.map(() => 0);
    const peakConcurrent = subjects.map(() => 0);
    const placing: Array<Promise<PlacedCall>> = [];
    const tick = ARRIVAL_MS / subjects.length;
    for (let i = 0; i < calls; i++) {
      for (let k = 0; k < subjects.length; k++) {
        // Calls arrive on a fixed clock, whatever the server's speed: a slower server must not get
        // its calls spread out (and fewer of them at once) for being slow.
        await pause(started + (i * subjects.length + k) * tick - performance.now());
        const placement = place(servers[k]!, 'short');
        placing.push(placement);
        runs[k]!.push(
          placement.then((p) => {
            placed[k]!.push(p);
            peakConcurrent[k] = Math.max(peakConcurrent[k]!, ++live[k]!);
            // Each call starts talking at its own moment within two seconds: real calls don't turn together.
            return pause((i * 397) % 2000)
              .then(() => driveCall(p.call, p))
              .finally(() => live[k]!--);
          }),
        );
      }
    }
    await Promise.all(placing);
    log(
      `  ${label}: ${calls} calls${each} connected in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const samples = await Promise.all(runs.map(async (r) => (await Promise.all(r)).flat()));
    const wallMs = performance.now() - started;
    // Each server's own account of its CPU (process.cpuUsage, every thread), read by its probe.
    const loops = await Promise.all(servers.map((s) => s.readLoop()));
    const callers = process.cpuUsage(callersCpu);
    const harnessCpuMs = {
      callers: (callers.user + callers.system) / 1000,
      fakes: (await fakes.remote.cpuMs()) - fakesCpu,
    };
    log(`  ${label}: ${calls} calls${each} done`);
    clearInterval(rssTimer);
    harness.disable();
    return subjects.map((subject, k) => {
      const mine = placed[k]!;
      const perCall = (of: (c: PlacedCall['call']) => number) =>
        mine.reduce((sum, p) => sum + of(p.call), 0) / mine.length;
      const loop = loops[k]!;
      return {
        pipeline: subject,
        calls,
        samples: samples[k]!,
        cpuMsPerCall: loop.cpuMs / calls,
        coresPerCall: loop.cpuMs / wallMs / calls,
        loop,
        idleRssBytes: idleRss[k]!,
        peakRssBytes: peakRss[k]!,
        harnessLoopP99Ms: harness.percentile(99) / 1e6,
        harnessCpuMs,
        wallMs,
        framesPerCall: perCall((c) => c.framesSent),
        audioKbPerCall: perCall((c) => c.receivedBytes) / 1024,
        peakConcurrent: peakConcurrent[k]!,
        together: subjects.length,
      };
    });
  } finally {
    for (const p of placed.flat()) p.call.terminate();
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

const triple = (x: ReturnType<typeof stats>) => `${ms(x.p50)} / ${ms(x.p90)} / ${ms(x.p99)}`;

/**
 * One markdown table for every delay profile: per turn type, caller stops speaking -> first bot
 * audio (p50 / p90 / p99) of the engine and the bare pipeline side by side, and the p50 ratio.
 */
export function formatLatency(profiles: ProfileResult[]): string[] {
  const head = profiles.map(
    (r, i) =>
      `(${i + 1}) ${r.profile.name}: ${r.callsPerPipeline} call(s) each, Deepgram endpointing asked: engine ${r.byPipeline.engine.endpointing}, bare ${r.byPipeline.baseline.endpointing}`,
  );
  const lines = [
    'Caller stops speaking -> first bot audio, ms, p50 / p90 / p99 (with few calls, p99 is the max):',
    ...head,
    '',
    `| turn | ${profiles.map((_, i) => `(${i + 1}) engine | (${i + 1}) bare | (${i + 1}) engine/bare p50`).join(' | ')} |`,
    `| --- | ${profiles.map(() => '--- | --- | ---').join(' | ')} |`,
  ];
  const finals: string[] = [];
  for (const turn of TURN_TYPES) {
    const cells: string[] = [];
    const sttCells: string[] = [];
    let notCleared = 0;
    for (const r of profiles) {
      const e = r.byPipeline.engine.samples.filter((s) => s.turn === turn);
      const b = r.byPipeline.baseline.samples.filter((s) => s.turn === turn);
      const es = stats(e.map((s) => s.latencyMs));
      const bs = stats(b.map((s) => s.latencyMs));
      notCleared += [...e, ...b].filter((s) => s.cleared === false).length;
      cells.push(`${triple(es)} | ${triple(bs)} | ${ratio(es.p50, bs.p50)}`);
      sttCells.push(
        `${ms(stats(e.map((s) => s.sttFinalToAudioMs)).p50)} / ${ms(stats(b.map((s) => s.sttFinalToAudioMs)).p50)}`,
      );
    }
    lines.push(`| ${turn}${notCleared ? ` (${notCleared} without clear)` : ''} | ${cells.join(' | ')} |`);
    if (turn !== 'greeting') finals.push(`${turn} ${sttCells.join(', ')}`);
  }
  lines.push('', `STT final -> first audio p50, engine / bare, per setting: ${finals.join('; ')} ms.`);
  const spoke = profiles.map((r, i) => {
    const count = (samples: TurnSample[]) => {
      const two = samples.filter((s) => s.spokeInPause !== undefined);
      return `${two.filter((s) => s.spokeInPause).length} of ${two.length}`;
    };
    return `(${i + 1}) engine ${count(r.byPipeline.engine.samples)}, bare ${count(r.byPipeline.baseline.samples)}`;
  });
  lines.push(
    `Unfinished date: the bot's audio reached the caller during the ${UNFINISHED_PAUSE_MS} ms pause (it answered "It was on") in ${spoke.join('; ')} calls.`,
  );
  return lines;
}

const SUBJECT_LABEL: Record<CapacitySubject, string> = {
  engine: 'engine (PGlite)',
  'engine+postgres': 'engine (PostgreSQL)',
  baseline: 'bare pipeline',
};

/**
 * One capacity level: the engine's runs (PGlite; PostgreSQL when it ran) and the bare pipeline's.
 * With several rounds, each subject's run shown is its median round by CPU per call, and `rounds`
 * keeps every round (the subjects interleaved, so the same noise of this shared machine meets
 * each of them).
 */
export interface CapacityLevel {
  engines: CapacityResult[];
  baseline: CapacityResult;
  rounds?: Array<{ engines: CapacityResult[]; baseline: CapacityResult }>;
}

/** The run with the median CPU per call (the lower middle of an even count). */
export function medianRun(runs: readonly CapacityResult[]): CapacityResult {
  const sorted = [...runs].sort((a, b) => a.cpuMsPerCall - b.cpuMsPerCall);
  const run = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!run) throw new Error('no capacity run');
  return run;
}

/**
 * One markdown table for every capacity level: latency, CPU per call, event-loop delay p99 and RSS
 * of each engine run and the bare pipeline, with the ratios engine/bare; then the harness load.
 */
export function formatCapacity(levels: CapacityLevel[]): string[] {
  const first = levels[0];
  if (!first) return [];
  const subjects = [...first.engines.map((e) => e.pipeline), first.baseline.pipeline];
  const lat = (c: CapacityResult) =>
    stats(c.samples.filter((s) => s.turn !== 'greeting').map((s) => s.latencyMs));
  const stt = (c: CapacityResult) => stats(c.samples.map((s) => s.sttFinalToAudioMs));
  const lines = [
    'Capacity, zero provider delay (all caller turns of every call):',
    '',
    `| calls | measure | ${subjects.map((k) => SUBJECT_LABEL[k]).join(' | ')} | engine/bare${first.engines.length > 1 ? ` (${first.engines.map((e) => (e.pipeline === 'engine' ? 'PGlite' : 'PostgreSQL')).join(' / ')})` : ''} |`,
    `| --- | --- | ${subjects.map(() => '---').join(' | ')} | --- |`,
  ];
  const harness: string[] = [];
  const cpuRounds: string[] = [];
  for (const { engines, baseline, rounds } of levels) {
    const all = [...engines, baseline];
    const row = (what: string, cell: (c: CapacityResult) => string, r: (e: CapacityResult) => string) =>
      lines.push(
        `| ${baseline.calls} | ${what} | ${all.map(cell).join(' | ')} | ${engines.map(r).filter(Boolean).join(' / ') || '–'} |`,
      );
    const by = (f: (c: CapacityResult) => number) => (e: CapacityResult) => ratio(f(e), f(baseline));
    row(
      'caller stops -> first audio p50 / p99',
      (c) => `${ms(lat(c).p50)} / ${ms(lat(c).p99)} ms`,
      (e) => `${ratio(lat(e).p50, lat(baseline).p50)}, ${ratio(lat(e).p99, lat(baseline).p99)}`,
    );
    row(
      'STT final -> first audio p50 / p99',
      (c) => `${ms(stt(c).p50)} / ${ms(stt(c).p99)} ms`,
      (e) => `${ratio(stt(e).p50, stt(baseline).p50)}, ${ratio(stt(e).p99, stt(baseline).p99)}`,
    );
    row(
      'CPU per call, ms',
      (c) => ms(c.cpuMsPerCall),
      by((c) => c.cpuMsPerCall),
    );
    row(
      'server event-loop delay p99',
      (c) => `${c.loop.p99Ms.toFixed(1)} ms`,
      by((c) => c.loop.p99Ms),
    );
    row(
      'RSS peak (idle after warm-up)',
      (c) => `${mb(c.peakRssBytes)} (${mb(c.idleRssBytes)})`,
      by((c) => c.peakRssBytes),
    );
    row(
      'RSS peak - idle, per call',
      (c) => `${((c.peakRssBytes - c.idleRssBytes) / 1024 / 1024 / c.calls).toFixed(2)} MB`,
      by((c) => c.peakRssBytes - c.idleRssBytes),
    );
    row(
      'RSS peak - bare peak, per call',
      (c) =>
        c === baseline
          ? '–'
          : `${((c.peakRssBytes - baseline.peakRssBytes) / 1024 / 1024 / c.calls).toFixed(2)} MB`,
      () => '',
    );
    if (rounds && rounds.length > 1) {
      const cpu = (pick: (r: NonNullable<CapacityLevel['rounds']>[number]) => CapacityResult | undefined) =>
        rounds.map((r) => pick(r)?.cpuMsPerCall ?? NaN);
      const perSubject = [
        ...engines.map((e) => ({
          label: SUBJECT_LABEL[e.pipeline],
          cpu: cpu((r) => r.engines.find((x) => x.pipeline === e.pipeline)),
        })),
        { label: SUBJECT_LABEL[baseline.pipeline], cpu: cpu((r) => r.baseline) },
      ];
      const bare = perSubject.at(-1)!.cpu;
      cpuRounds.push(
        `${baseline.calls} calls, CPU per call in ${rounds.length} interleaved rounds: ${perSubject
          .map((p) => `${p.label} ${p.cpu.map((x) => ms(x)).join(' / ')} ms`)
          .join('; ')}. Engine/bare per round: ${perSubject
          .slice(0, -1)
          .map((p) => {
            const rs = p.cpu.map((x, i) => x / bare[i]!);
            return `${p.label} ${rs.map((x) => x.toFixed(2)).join(' / ')} (median ${stats(rs).p50.toFixed(2)}x)`;
          })
          .join('; ')}.`,
      );
    }
    const pct = (cpuMs: number, c: CapacityResult) => `${Math.round((cpuMs / c.wallMs) * 100)}%`;
    harness.push(
      `${baseline.calls} calls: ${all
        .map(
          (c) =>
            `${SUBJECT_LABEL[c.pipeline]} run: callers' loop p99 ${ms(c.harnessLoopP99Ms)} ms, CPU callers ${pct(c.harnessCpuMs.callers, c)} + fakes ${pct(c.harnessCpuMs.fakes, c)} of a core, at most ${c.peakConcurrent} calls at once, per call ${Math.round(c.framesPerCall)} caller frames and ${c.audioKbPerCall.toFixed(1)} KB of bot audio`,
        )
        .join('; ')}`,
    );
  }
  const pglite = first.engines.find((e) => e.pipeline === 'engine');
  const postgres = first.engines.find((e) => e.pipeline === 'engine+postgres');
  lines.push('');
  if (pglite && postgres)
    lines.push(
      `PGlite's fixed cost (engine idle RSS on PGlite - on PostgreSQL): ${mb(pglite.idleRssBytes - postgres.idleRssBytes)}.`,
    );
  for (const line of cpuRounds) lines.push('', line);
  const together = levels.filter((l) => l.baseline.together > 1).map((l) => l.baseline.calls);
  if (together.length)
    lines.push(
      '',
      `At ${together.join(', ')} calls every subject ran at the same time (${together.map((n) => `${n} calls each`).join(', ')}, interleaved on one arrival clock), so all met the same moment of the shared machine; the harness figures are those of all of them together.`,
    );
  lines.push('', `Harness load: ${harness.join('. ')}.`);
  return lines;
}

/** The engine setups a capacity level can run (the bare pipeline always runs). */
const ENGINE_SUBJECTS = ['engine', 'engine+postgres'] as const;

/**
 * What `--quick` and the full run do: `BENCH_CALLS` sets the capacity levels, `BENCH_SUBJECTS`
 * (e.g. `engine+postgres`) the engine setups; an unknown name is an error, not an empty run.
 */
export function latencyPlan(quick: boolean): {
  callsPerProfile: number;
  capacityLevels: number[];
  /** Interleaved rounds per capacity level (`BENCH_CAPACITY_RUNS`; default 3, quick 1). */
  capacityRounds: number;
  engineSubjects: ReadonlyArray<(typeof ENGINE_SUBJECTS)[number]>;
} {
  const levels = process.env.BENCH_CALLS?.split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  const named = process.env.BENCH_SUBJECTS?.split(',').filter(Boolean) ?? [];
  const unknown = named.filter((n) => !(ENGINE_SUBJECTS as readonly string[]).includes(n));
  if (unknown.length)
    throw new Error(`BENCH_SUBJECTS: unknown ${unknown.join(', ')} (known: ${ENGINE_SUBJECTS.join(', ')})`);
  return {
    callsPerProfile: quick ? 2 : 6,
    capacityRounds: Math.max(1, Math.floor(Number(process.env.BENCH_CAPACITY_RUNS ?? (quick ? 1 : 3))) || 1),
    capacityLevels: levels?.length ? levels : quick ? [50] : [50, 200],
    engineSubjects: named.length ? ENGINE_SUBJECTS.filter((n) => named.includes(n)) : ENGINE_SUBJECTS,
  };
}

/** The whole latency bench: both delay profiles, then capacity; returns the markdown tables. */
export async function runLatencyBench(opts: {
  quick: boolean;
  log?: (line: string) => void;
  /** A PostgreSQL for the engine's second capacity run (a throwaway schema); none: PGlite only. */
  databaseUrl?: string | undefined;
  /** Skip the per-turn tables and run only capacity (`--capacity-only`; for profiling). */
  capacityOnly?: boolean;
}): Promise<string[]> {
  const t0 = performance.now();
  const log = (line: string) =>
    opts.log?.(
      line.startsWith('  ') ? `  [${((performance.now() - t0) / 1000).toFixed(0)} s]${line.slice(1)}` : line,
    );
  const plan = latencyPlan(opts.quick);
  const out: string[] = [];
  // Quick mode runs the two delay settings at the same time (a few calls each: the machine idles).
  const profiles = opts.capacityOnly
    ? []
    : opts.quick
      ? await Promise.all(DELAY_PROFILES.map((p) => runProfile(p, plan.callsPerProfile, log)))
      : await DELAY_PROFILES.reduce<Promise<ProfileResult[]>>(
          async (acc, p) => [...(await acc), await runProfile(p, plan.callsPerProfile, log)],
          Promise.resolve([]),
        );
  const latency = profiles.length ? formatLatency(profiles) : [];
  for (const line of latency) log(line);
  const levels: CapacityLevel[] = [];
  for (const calls of plan.capacityLevels) {
    const rounds: NonNullable<CapacityLevel['rounds']> = [];
    const subjects: CapacitySubject[] = [
      ...plan.engineSubjects.filter((s) => s === 'engine' || opts.databaseUrl !== undefined),
      'baseline',
    ];
    // One rig per level: its servers are warmed once and measured by every round.
    const rig = await startCapacityRig(subjects, calls, log, opts.databaseUrl);
    try {
      for (let round = 0; round < plan.capacityRounds; round++) {
        if (plan.capacityRounds > 1) log(`  ${calls} calls: round ${round + 1} of ${plan.capacityRounds}`);
        const all = subjects.map((_, k) => k);
        // Up to TOGETHER_MAX_CALLS every subject at once; above, one after the other (interleaved).
        const results =
          calls <= TOGETHER_MAX_CALLS
            ? await runCapacityWindow(rig, all, log)
            : await all.reduce<Promise<CapacityResult[]>>(
                async (acc, k) => [...(await acc), ...(await runCapacityWindow(rig, [k], log))],
                Promise.resolve([]),
              );
        rounds.push({ engines: results.slice(0, -1), baseline: results.at(-1)! });
      }
    } finally {
      await rig.close();
    }
    const first = rounds[0]!;
    levels.push({
      engines: first.engines.map((e, i) => medianRun(rounds.map((r) => r.engines[i]!))),
      baseline: medianRun(rounds.map((r) => r.baseline)),
      rounds,
    });
  }
  const capacity = formatCapacity(levels);
  for (const line of capacity) log(line);
  out.push(...latency, '', ...capacity);
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runLatencyBench({
    quick: process.argv.includes('--quick'),
    log: console.log,
    databaseUrl: process.env.BENCH_DATABASE_URL,
    capacityOnly: process.argv.includes('--capacity-only'),
  });
}
