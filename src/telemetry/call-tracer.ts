/**
 * OpenTelemetry spans of a call, built from the session's notices: one `conversation` span per
 * call, a `turn` child per bot turn, and under each turn `stt` / `llm` / `tts` children with their
 * TTFB and processing time and a `tool` span per claim event the turn applied.
 *
 * A turn's timings are known only when it ends (the `metrics.turn` notice), so its spans are
 * created then, with explicit start and end times: `turn` from the caller's end of speech (or the
 * turn's start, whichever is earlier) to the end of the bot's speech; `stt` from the end of speech
 * for its processing time; `llm` from the turn's start; `tts` from the first text to speak.
 *
 * No personal data in attributes: ids, the masked caller (last 4 digits), lengths, flags,
 * durations, vendor and tool names; never what was said, nor claim values. Loaded only when
 * tracing is on (src/telemetry/tracing.ts).
 */
import {
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Attributes,
  type HrTime,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { CallEvent } from '../../machines/call/call.machine.js';
import type { TurnTiming } from '../metrics/conversation-metrics.js';
import type { CallObservation, ObservedCall, SessionObserver } from '../session/session-types.js';
import { labelValue, trackVendors, type CallVendors } from './vendors.js';

/** The call machine event that marks a turn's first audio. */
const FIRST_AUDIO: CallEvent['type'] = 'bot.speech.started';

/** What is gathered of a turn until its timings arrive. Times are performance.now() ms. */
interface PendingTurn {
  startedAt: number;
  endedAt?: number;
  firstAudioAt?: number;
  userTextLength?: number;
  interrupted?: boolean;
  tools: { name: string; at: number; accepted: boolean }[];
}

/** Whether a tool result (the JSON handed back to the dialogue) says the machine took the event. */
function accepted(result: string): boolean {
  try {
    return (JSON.parse(result) as { ok?: unknown }).ok === true;
  } catch {
    return false;
  }
}

/**
 * A performance.now() time as an absolute HrTime. Given as a plain number, the SDK would anchor it
 * with a per-span clock offset, so a child could land a fraction of a millisecond before its parent.
 */
function hr(ms: number): HrTime {
  const epochMs = performance.timeOrigin + ms;
  const seconds = Math.floor(epochMs / 1000);
  return [seconds, Math.min(999_999_999, Math.round((epochMs - seconds * 1000) * 1e6))];
}

const defined = (a: Record<string, number | string | boolean | undefined>): Attributes =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Attributes;

/** Creates the session observer that turns calls into spans on `tracer`. */
export function createCallTracer(
  tracer: Tracer,
  now: () => number = () => performance.now(),
): SessionObserver {
  return {
    callStarted(call: ObservedCall): CallObservation {
      const vendors = trackVendors(call);
      const conversation = tracer.startSpan(
        'conversation',
        {
          startTime: hr(now()),
          attributes: defined({
            'statecall.conversation.id': call.conversationId,
            'statecall.claim.id': call.claimId,
            'statecall.channel': call.channel,
            'statecall.caller': call.callerMasked ?? undefined,
            'statecall.stt.vendor': vendors.current('stt'),
            'statecall.llm.vendor': vendors.current('llm'),
            'statecall.tts.vendor': vendors.current('tts'),
          }),
        },
        ROOT_CONTEXT,
      );
      const inConversation = trace.setSpan(ROOT_CONTEXT, conversation);
      const pending = new Map<number, PendingTurn>();
      let latestTurn: number | null = null;
      let ended = false;

      const endTurn = (turn: number, timing: TurnTiming | null) => {
        const p = pending.get(turn);
        if (!p) return;
        pending.delete(turn);
        recordTurn(tracer, inConversation, vendors, turn, p, timing, now());
      };

      return {
        providerChanged: (role, name) => vendors.changed(role, name),
        notice(n) {
          if (ended) return;
          const at = now();
          switch (n.type) {
            case 'bot.turn.started':
              pending.set(n.turn, { startedAt: at, tools: [] });
              latestTurn = n.turn;
              return;
            case 'user.turn': {
              const p = pending.get(n.turn);
              if (p) p.userTextLength = n.text.length;
              return;
            }
            case 'tool.called':
              pending.get(n.turn)?.tools.push({ name: n.name, at, accepted: accepted(n.result) });
              return;
            case 'state.changed': {
              const p = latestTurn === null ? undefined : pending.get(latestTurn);
              if (n.actor === 'call' && n.event === FIRST_AUDIO && p && p.firstAudioAt === undefined)
                p.firstAudioAt = at;
              return;
            }
            case 'bot.turn.ended': {
              const p = pending.get(n.turn);
              if (p) Object.assign(p, { endedAt: at, interrupted: n.interrupted });
              return;
            }
            case 'metrics.turn':
              endTurn(n.timing.turn, n.timing);
              return;
            case 'provider.fallback':
              conversation.addEvent(
                'provider.failed',
                {
                  'statecall.provider.role': n.provider,
                  'statecall.provider.vendor': vendors.failed(n.provider),
                  'statecall.fallback.scope': n.scope,
                },
                hr(at),
              );
              return;
            case 'keypad.offered':
              conversation.addEvent(
                'keypad.offered',
                { 'statecall.turn': n.turn, 'statecall.keypad.reason': n.reason },
                hr(at),
              );
              return;
            case 'session.ended':
              ended = true;
              // A turn that failed or was cut by the hang-up has no timings: it ends unfinished.
              for (const turn of [...pending.keys()]) endTurn(turn, null);
              conversation.setAttribute('statecall.end_reason', n.reason);
              if (n.reason === 'error')
                conversation.setStatus({ code: SpanStatusCode.ERROR, message: 'call machine error' });
              conversation.end(hr(at));
              return;
            default:
              return;
          }
        },
      };
    },
  };
}

/** Creates one turn's span and its children (see file header). */
function recordTurn(
  tracer: Tracer,
  parent: ReturnType<typeof trace.setSpan>,
  vendors: CallVendors,
  turn: number,
  p: PendingTurn,
  t: TurnTiming | null,
  at: number,
): void {
  const end = p.endedAt ?? at;
  const userStoppedAt =
    p.firstAudioAt !== undefined && t?.latencyMs !== undefined ? p.firstAudioAt - t.latencyMs : undefined;
  const start = Math.min(p.startedAt, userStoppedAt ?? p.startedAt);
  const span = tracer.startSpan(
    'turn',
    {
      startTime: hr(start),
      attributes: defined({
        'statecall.turn': turn,
        'statecall.turn.user_text_length': p.userTextLength,
        'statecall.turn.interrupted': t?.interrupted ?? p.interrupted,
        'statecall.turn.latency_ms': t?.latencyMs,
        'statecall.turn.heard_latency_ms': t?.heardLatencyMs,
      }),
    },
    parent,
  );
  if (!t) span.setStatus({ code: SpanStatusCode.ERROR, message: 'turn did not finish' });
  const inTurn = trace.setSpan(parent, span);
  // Start times derived from notices are exact to a fraction of a millisecond: never before the turn.
  const child = (name: string, from: number, durationMs: number, attributes: Attributes): Span => {
    const at = Math.max(from, start);
    const s = tracer.startSpan(name, { startTime: hr(at), attributes }, inTurn);
    s.end(hr(at + Math.max(0, durationMs)));
    return s;
  };
  const provider = (
    role: 'stt' | 'llm' | 'tts',
    ttfbMs: number | undefined,
    processingMs: number | undefined,
  ) =>
    defined({
      'statecall.provider.vendor': t ? vendors.ofTurn(role, t) : vendors.current(role),
      'statecall.provider.ttfb_ms': ttfbMs,
      'statecall.provider.processing_ms': processingMs,
    });
  if (t && (t.sttTtfbMs !== undefined || t.sttProcessingMs !== undefined))
    child(
      'stt',
      userStoppedAt ?? start,
      t.sttProcessingMs ?? 0,
      provider('stt', t.sttTtfbMs, t.sttProcessingMs),
    );
  if (t?.llmTtfbMs !== undefined)
    child(
      'llm',
      p.startedAt,
      t.llmProcessingMs ?? t.llmTtfbMs,
      provider('llm', t.llmTtfbMs, t.llmProcessingMs),
    );
  // Without the first-audio notice (not seen), the speech is placed from the turn's start.
  if (t?.ttsTtfbMs !== undefined)
    child(
      'tts',
      p.firstAudioAt !== undefined ? p.firstAudioAt - t.ttsTtfbMs : p.startedAt,
      t.ttsProcessingMs ?? t.ttsTtfbMs,
      provider('tts', t.ttsTtfbMs, t.ttsProcessingMs),
    );
  for (const tool of p.tools)
    child('tool', tool.at, 0, {
      'statecall.tool.name': labelValue(tool.name),
      'statecall.tool.accepted': tool.accepted,
    });
  span.end(hr(end));
}
