/**
 * One call session: wires a transport (phone, browser, terminal) to the call machine, its claim
 * child, the providers, the metrics and the store. One instance per call; no state shared between
 * calls except the injected dependencies.
 *
 * Lifecycle: `startCallSession` issues a unique claim number, creates the conversation row, starts
 * the call machine and sends `call.started`. The session ends when the call machine reaches `ended`
 * (after a hang-up, the caller leaving, or a watchdog); `done` then resolves after the final rows
 * were queued. Nothing here throws into the transport: failures become events or log lines.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { createActor, fromCallback, fromPromise, type ActorRefFrom, type InspectionEvent } from 'xstate';
import {
  callMachine,
  type CallEvent,
  type CallNotice,
  type RespondInput,
} from '../../machines/call/call.machine.js';
import type { claimMachine } from '../../machines/claim/claim.machine.js';
import { claimViewOf, type ClaimSnapshot, type ClaimView } from '../../machines/claim/claim.view.js';
import { ConversationMetrics } from '../metrics/conversation-metrics.js';
import { maskPhoneNumber } from '../privacy/phone-number.js';
import { dtmfToClaimEvents } from '../../machines/claim/claim.keypad.js';
import { ProviderError, type DialogueMessage, type DialogueProvider } from '../providers/types.js';
import type { ConversationStore, MessageRow } from '../store/types.js';
import { ClaimGateway } from './claim-gateway.js';
import { runRespondTurn } from './respond-turn.js';
import type { ConversationWriter, SessionOptions, SessionTransport, SpeechHooks } from './session-types.js';
import { createTransitionRecorder } from './transition-recorder.js';
import { machineVersion } from './machine-version.js';

/** Dependencies shared by all sessions (built once in the composition root). */
export interface SessionDeps {
  store: ConversationStore;
  writer: ConversationWriter;
  dialogue: DialogueProvider;
  fallbackDialogue: DialogueProvider;
  logger: Logger;
  companyName: string;
  maxClaimAmount: number;
  /** Today's date (YYYY-MM-DD) for claim date guards. */
  today(): string;
  /**
   * Where claim numbers come from. Synchronous, so the greeting (which reads the number out) never
   * waits for the database: the composition root hands out numbers reserved ahead of time.
   */
  claimNumbers: ClaimNumberSource;
  /** This server instance (stored on each conversation; a crashed instance's calls are closed at its restart). */
  instanceId?: string;
  /** Extra inspection (Stately inspector); receives every actor event. */
  inspect?: (ev: InspectionEvent) => void;
  /** Names of the providers recorded in metrics. */
  providerNames: { stt: string | null; llm: string; tts: string | null };
}

/** A claim number for a new call, and whether the database reserved it (false: generated locally). */
export interface ClaimNumberSource {
  take(): { claimId: string; reserved: boolean };
}

/** A running call. */
export interface CallSession {
  readonly conversationId: string;
  readonly claimId: string;
  /** Forwards a transport event (speech, transcript, DTMF, typed text) to the call machine. */
  send(event: CallEvent): void;
  /** The transport went away (caller hung up, socket closed). Idempotent. */
  stop(reason: string): void;
  /**
   * The server ends the call (e.g. `server_shutdown` at the end of a drain): the call machine goes
   * to `ending`, whose hang-up lets the transport say its last words. Idempotent.
   */
  hangUp(reason: string): void;
  /** Current machine states, for UIs and tests. */
  snapshot(): { call: unknown; claim: ClaimView | null };
  /** Resolves when the call has ended and its final rows were queued. */
  readonly done: Promise<{ endReason: string }>;
}

/** Starts a session for a transport (see file header). */
export async function startCallSession(
  deps: SessionDeps,
  transport: SessionTransport,
  opts: SessionOptions = {},
): Promise<CallSession> {
  const conversationId = opts.conversationId ?? randomUUID();
  const log = deps.logger.child({ conversationId, channel: transport.channel });
  const now = () => new Date().toISOString();
  const { claimId, reserved } = deps.claimNumbers.take();
  if (!reserved) log.warn({ claimId }, 'claim number not reserved in the database (store unreachable?)');
  // Queued, never awaited: the outbox writes it before anything that references it.
  deps.writer.createConversation({
    id: conversationId,
    claim_id: claimId,
    ...(deps.instanceId ? { instance_id: deps.instanceId } : {}),
    call_sid: opts.callSid ?? null,
    stream_sid: opts.streamSid ?? null,
    from_number: maskPhoneNumber(opts.from),
    to_number: maskPhoneNumber(opts.to),
    channel: transport.channel,
    machine_version: machineVersion,
    created_at: now(),
  });
  const today = deps.today();
  const history: DialogueMessage[] = [];
  let messageSeq = 0;
  /** Recent caller utterances (VAD), newest last, for the overall-latency metric. */
  const utterances: { startAt: number; stopAt: number | null }[] = [];
  let sttTiming: { ttfbMs?: number; processingMs?: number } = {};
  // The transport's speech side reports to these from its first frame (no attach, nothing dropped).
  const speechHooks: SpeechHooks = {
    userStarted(atMs) {
      utterances.push({ startAt: atMs, stopAt: null });
      if (utterances.length > 8) utterances.shift();
    },
    userStopped(atMs) {
      const last = utterances.at(-1);
      if (last && last.stopAt === null) last.stopAt = atMs;
    },
    sttTiming(t) {
      if (t.ttfbMs !== undefined) sttTiming.ttfbMs = t.ttfbMs;
      if (t.processingMs !== undefined) sttTiming.processingMs = t.processingMs;
    },
    providerChanged(role, name) {
      metrics.setProvider(role, name);
      // A role that fell back is a provider failure the call machine routes (and shows).
      if (!ended && started)
        actor.send({
          type: 'provider.failed',
          provider: role,
          retryable: false,
          message: `fell back to ${name}`,
        });
    },
  };
  const speech = transport.openSpeech(speechHooks);
  const metrics = new ConversationMetrics(conversationId, {
    stt: deps.providerNames.stt,
    llm: deps.providerNames.llm,
    tts: deps.providerNames.tts ?? speech.speaker.name,
  });
  let claimRef: ActorRefFrom<typeof claimMachine> | null = null;
  let lastClaimKey = '';
  let ended = false;
  let started = false;
  let resolveDone!: (v: { endReason: string }) => void;
  const done = new Promise<{ endReason: string }>((r) => (resolveDone = r));

  const message = (
    role: MessageRow['role'],
    text: string,
    turn: number,
    extra: Partial<MessageRow> = {},
  ): MessageRow => ({
    conversation_id: conversationId,
    seq: messageSeq++,
    role,
    text,
    heard_text: null,
    interrupted: false,
    turn,
    created_at: now(),
    ...extra,
  });

  const persistClaim = (snapshot: ClaimSnapshot) => {
    const view = claimViewOf(snapshot);
    const c = view.context;
    const key = JSON.stringify([c.claimDate, c.claimAmount, c.claimStatus, view.phase, view.path]);
    if (key === lastClaimKey) return;
    lastClaimKey = key;
    deps.writer.updateConversation(conversationId, {
      claim_date: c.claimDate,
      claim_amount: c.claimAmount,
      claim_status: c.claimStatus,
      state: view.phase,
      updated_at: now(),
    });
    transport.notify({
      type: 'claim.updated',
      claim: {
        claimId: c.claimId,
        claimDate: c.claimDate,
        claimAmount: c.claimAmount,
        claimStatus: c.claimStatus,
        state: view.phase,
        path: view.path,
      },
    });
  };

  const recorder = createTransitionRecorder(conversationId, {
    transition: (row) => {
      deps.writer.appendTransitions([row]);
      transport.notify({
        type: 'state.changed',
        actor: row.actor,
        value: row.state_value,
        event: row.event_type,
      });
    },
    claimSnapshot: (s) => persistClaim(s as ClaimSnapshot),
  });

  const respondLogic = fromCallback<CallEvent, RespondInput>(({ input, sendBack, system }) => {
    claimRef ??= (system.get('claim') as ActorRefFrom<typeof claimMachine> | undefined) ?? null;
    const ac = new AbortController();
    let stopped = false;
    const send = (e: CallEvent) => {
      if (!stopped) sendBack(e);
    };
    if (!claimRef) {
      send({ type: 'bot.turn.failed', turn: input.turn, message: 'claim not started' });
      return () => {};
    }
    const gateway = new ClaimGateway(claimRef);
    const botTurn = input.turn;
    const turnStt = sttTiming;
    sttTiming = {};
    transport.notify({ type: 'bot.turn.started', turn: botTurn });
    const ctx = {
      gateway,
      history,
      dialogue: deps.dialogue,
      fallback: deps.fallbackDialogue,
      speaker: speech.speaker,
      callInfo: {
        channel: transport.channel,
        fromMasked: maskPhoneNumber(opts.from),
        companyName: deps.companyName,
      },
      userStoppedAt: (turnStartedAt: number) => {
        // The caller's utterance this turn answers: the last one that began before the turn.
        for (let i = utterances.length - 1; i >= 0; i--)
          if (utterances[i]!.startAt <= turnStartedAt) return utterances[i]!.stopAt;
        return null;
      },
      dtmfEvents: (entry: string) => dtmfToClaimEvents(gateway.view(), entry),
      onFirstAudio: () => send({ type: 'bot.speech.started', turn: botTurn }),
      onUserMessage: (text: string) => {
        deps.writer.upsertMessages([message('user', text, botTurn)]);
        transport.notify({ type: 'user.turn', turn: botTurn, text });
      },
      onToolCall: (name: string, args: string, result: string) => {
        deps.writer.upsertMessages([message('tool', `${name}(${args}) -> ${result}`, botTurn)]);
        transport.notify({ type: 'tool.called', turn: botTurn, name, arguments: args, result });
      },
      onDialogueFailure: (err: unknown, vendor: string) => {
        log.warn(
          { vendor, err: (err as Error).message },
          'dialogue failed; local dialogue answers this turn',
        );
        metrics.setProvider('llm', deps.fallbackDialogue.name);
        // The call machine decides what the failure means for the rest of the call.
        send({
          type: 'provider.failed',
          provider: 'llm',
          retryable: err instanceof ProviderError ? err.retryable : true,
          ...(err instanceof ProviderError && err.status !== undefined ? { status: err.status } : {}),
          message: (err as Error).message,
        });
      },
      // Every transport's observers see the bot's words as they are spoken (never audio).
      onBotText: (text: string) => transport.notify({ type: 'bot.text', turn: botTurn, text }),
    };
    runRespondTurn(input, ctx, ac.signal)
      .then((r) => {
        const text = r.speech.spokenText;
        if (text) {
          deps.writer.upsertMessages([
            message('assistant', text, botTurn, {
              heard_text: r.speech.interrupted ? r.speech.heardText : null,
              interrupted: r.speech.interrupted,
            }),
          ]);
        }
        transport.notify({
          type: 'bot.turn.ended',
          turn: botTurn,
          text,
          heardText: r.speech.heardText,
          interrupted: r.speech.interrupted,
        });
        if (input.reason === 'user')
          Object.assign(r.timing, { sttTtfbMs: turnStt.ttfbMs, sttProcessingMs: turnStt.processingMs });
        metrics.addTurn(r.timing);
        transport.notify({ type: 'metrics.turn', timing: r.timing });
        deps.writer.upsertMetrics(metrics.toRow());
        send(
          r.outcome === 'goodbye'
            ? { type: 'caller.goodbye.said', turn: botTurn }
            : { type: 'bot.turn.completed', turn: botTurn, outcome: r.outcome },
        );
      })
      .catch((err: unknown) => {
        log.error({ err: (err as Error).message }, 'bot turn failed');
        send({ type: 'bot.turn.failed', turn: botTurn, message: (err as Error).message });
      });
    return () => {
      stopped = true;
      ac.abort();
    };
  });

  const machine = callMachine.provide({
    actors: {
      respond: respondLogic,
      hangUp: fromPromise<void, { reason: string }>(async ({ input }) => transport.hangUp(input.reason)),
      ...(speech.sttLogic ? { stt: speech.sttLogic as never } : {}),
    },
    actions: {
      interruptPlayback: () => {
        try {
          speech.interrupt();
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'interrupt failed');
        }
      },
    },
  });

  const actorId = `call-${conversationId}`;
  const actor = createActor(machine, {
    id: actorId,
    input: {
      conversationId,
      channel: transport.channel,
      claim: { claimId, today, maxAmount: deps.maxClaimAmount },
      timings: opts.timings,
    },
    inspect: (ev) => {
      recorder(ev);
      deps.inspect?.(ev);
    },
  });
  // What the call machine tells clients (transcripts, keypad offers, fallbacks): its emitted events.
  actor.on('*', (notice: CallNotice) => {
    if (notice.type === 'provider.fallback')
      log.warn({ provider: notice.provider, scope: notice.scope }, 'provider fallback');
    transport.notify(notice);
  });

  const finish = (endReason: string) => {
    if (ended) return;
    ended = true;
    const claim = claimRef ? claimViewOf(claimRef.getSnapshot()) : null;
    deps.writer.updateConversation(conversationId, {
      ended_at: now(),
      end_reason: endReason,
      ...(claim ? { state: claim.phase } : {}),
      updated_at: now(),
    });
    deps.writer.upsertMetrics(metrics.toRow());
    speech.speaker.close();
    transport.notify({ type: 'session.ended', reason: endReason });
    log.info({ endReason, claimState: claim?.path }, 'call ended');
    resolveDone({ endReason });
  };

  actor.subscribe({
    next: (s) => {
      if (!claimRef) {
        const child = s.children.claim as ActorRefFrom<typeof claimMachine> | undefined;
        if (child) claimRef = child;
      }
      if (s.status === 'done') finish(s.context.endReason ?? 'ended');
    },
    error: (err) => {
      log.error({ err: (err as Error).message }, 'call machine error');
      finish('error');
    },
  });

  // Observers learn the conversation id before the machines' first state changes.
  transport.notify({ type: 'session.started', conversationId, claimId, channel: transport.channel });
  actor.start();
  started = true;
  // A transport that creates the session before its carrier said the call started sends
  // `call.started` itself; until then the machine's connect timeout runs.
  if (!opts.awaitCallStart)
    actor.send({
      type: 'call.started',
      callSid: opts.callSid ?? null,
      streamSid: opts.streamSid ?? null,
      from: opts.from ?? null,
      to: opts.to ?? null,
      customParameters: opts.customParameters ?? {},
    });
  log.info({ claimId }, 'call started');

  const session: CallSession = {
    conversationId,
    claimId,
    send(event) {
      if (ended) return;
      actor.send(event);
    },
    stop(reason) {
      if (ended) return;
      actor.send({ type: 'call.stopped', reason });
      const snap = actor.getSnapshot();
      if (snap.status !== 'done') {
        actor.stop();
        // Hanging up already (e.g. Twilio stops the stream in answer to our REST hang-up): keep why.
        finish(snap.context.endReason ?? reason);
      }
    },
    hangUp(reason) {
      if (ended) return;
      const snap = actor.getSnapshot();
      if (snap.matches('active')) actor.send({ type: 'call.hang_up', reason });
      else session.stop(reason);
    },
    snapshot() {
      return {
        call: actor.getSnapshot().value,
        claim: claimRef ? claimViewOf(claimRef.getSnapshot()) : null,
      };
    },
    done,
  };
  return session;
}
