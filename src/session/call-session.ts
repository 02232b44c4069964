/**
 * One call session's lifecycle: wires a transport (phone, browser, terminal) to the call machine,
 * its claim child and the providers. The pieces with a job of their own live beside it: the
 * respond actor (respond-actor.ts), the conversation log (conversation-log.ts) and the turn clock
 * (turn-clock.ts). One instance per call; nothing shared between calls but the injected deps.
 *
 * Lifecycle: `startCallSession` takes a claim number reserved ahead (never waiting for the
 * database), queues the conversation row, opens the transport's speech side with its hooks,
 * starts the call machine and sends `call.started`. The session ends when the call machine reaches `ended`
 * (after a hang-up, the caller leaving, or a watchdog); `done` then resolves after the final rows
 * were queued. Nothing here throws into the transport: failures become events or log lines.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  createActor,
  fromCallback,
  fromPromise,
  type ActorRefFrom,
  type ActorSystem,
  type InspectionEvent,
} from 'xstate';
import {
  callMachine,
  type CallEvent,
  type CallNotice,
  type RespondInput,
  type TransferInput,
} from '../../machines/call/call.machine.js';
import { DEFAULT_TRANSFER_AFTER_MISUNDERSTANDINGS } from '../../machines/call/transfer.js';
import type { claimMachine } from '../../machines/claim/claim.machine.js';
import { claimViewOf, type ClaimView } from '../../machines/claim/claim.view.js';
import { ConversationMetrics } from '../metrics/conversation-metrics.js';
import { maskPhoneNumber } from '../privacy/phone-number.js';
import type { DialogueMessage, DialogueProvider } from '../providers/types.js';
import type { ConversationStore } from '../store/types.js';
import type {
  CallObservation,
  ConversationWriter,
  SessionNotice,
  SessionObserver,
  SessionOptions,
  SessionTransport,
  SttActorCallback,
} from './session-types.js';
import { machineVersion } from './machine-version.js';
import { createConversationLog } from './conversation-log.js';
import { createTurnActors, type TurnActorCallback } from './respond-actor.js';
import { createTurnClock } from './turn-clock.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- xstate's own `AnyActorSystem`, not exported
type AnyActorSystem = ActorSystem<any>;

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
  /** Operations' observer (metrics, traces): gets every call's notices. */
  observer?: SessionObserver;
  /**
   * Misunderstood turns in a row after which a call that can be transferred goes to a person
   * (TRANSFER_AFTER_MISUNDERSTANDINGS; 0: never by itself). Default 3.
   */
  transferAfterMisunderstandings?: number;
  /** Preemptive generation during the endpointing patience (`PREEMPTIVE_GENERATION`). Default true. */
  preemptive?: boolean;
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

/** What differs from call to call in the call machine: its actors' bodies and the barge-in action. */
interface CallBindings {
  respond: TurnActorCallback;
  prepare: TurnActorCallback;
  stt: SttActorCallback | null;
  hangUp(reason: string): Promise<void>;
  transfer(input: TransferInput): Promise<void>;
  interruptPlayback(): void;
}

/** Each running call's bindings, by its actor system (the call actor and its children share one). */
const bindingsBySystem = new WeakMap<AnyActorSystem, CallBindings>();

function bindingsOf(system: AnyActorSystem): CallBindings {
  const bindings = bindingsBySystem.get(system);
  if (!bindings) throw new Error('call machine started without its session');
  return bindings;
}

/**
 * The call machine with the session's actors, provided once for every call: `provide()` builds a
 * new machine (its whole state tree, whose transitions are then worked out again as the call
 * visits each state), so binding per call cost every call that CPU and memory. Each actor finds
 * its call's bodies through the actor system instead.
 */
const sessionCallMachine = callMachine.provide({
  actors: {
    respond: fromCallback<CallEvent, RespondInput>((args) => bindingsOf(args.system).respond(args)),
    prepare: fromCallback<CallEvent, RespondInput>((args) => bindingsOf(args.system).prepare(args)),
    stt: fromCallback<CallEvent, { conversationId: string }>((args) => bindingsOf(args.system).stt?.(args)),
    hangUp: fromPromise<void, { reason: string }>(({ input, system }) =>
      bindingsOf(system).hangUp(input.reason),
    ),
    transfer: fromPromise<void, TransferInput>(({ input, system }) => bindingsOf(system).transfer(input)),
  },
  actions: {
    interruptPlayback: ({ system }) => bindingsOf(system).interruptPlayback(),
  },
});

/** Starts a session for a transport (see file header). */
export async function startCallSession(
  deps: SessionDeps,
  transport: SessionTransport,
  opts: SessionOptions = {},
): Promise<CallSession> {
  const conversationId = opts.conversationId ?? randomUUID();
  const logger = deps.logger.child({ conversationId, channel: transport.channel });
  /** Operations' observation of this call (set once the metrics know the providers). */
  const observed: { call?: CallObservation } = {};
  /** The transport's observers and operations' observer see the same notices. */
  const notify = (n: SessionNotice) => {
    transport.notify(n);
    observed.call?.notice(n);
  };
  const log = createConversationLog({ conversationId, writer: deps.writer, notify });
  const { claimId, reserved } = deps.claimNumbers.take();
  if (!reserved) logger.warn({ claimId }, 'claim number not reserved in the database (store unreachable?)');
  log.created({
    claim_id: claimId,
    ...(deps.instanceId ? { instance_id: deps.instanceId } : {}),
    call_sid: opts.callSid ?? null,
    stream_sid: opts.streamSid ?? null,
    from_number: maskPhoneNumber(opts.from),
    to_number: maskPhoneNumber(opts.to),
    channel: transport.channel,
    ...(transport.carriesVoice !== undefined ? { voice: transport.carriesVoice } : {}),
    machine_version: machineVersion,
  });

  let ended = false;
  let started = false;
  let claimRef: ActorRefFrom<typeof claimMachine> | null = null;
  const clock = createTurnClock();
  // The transport's speech side reports to these from its first frame (no attach, nothing dropped).
  const speech = transport.openSpeech(
    {
      userStarted: (atMs) => clock.userStarted(atMs),
      userStopped: (atMs) => clock.userStopped(atMs),
      sttTiming: (t) => clock.sttTiming(t),
      providerChanged(role, name) {
        metrics.setProvider(role, name);
        observed.call?.providerChanged(role, name);
        // A role that fell back is a provider failure the call machine routes (and shows).
        if (!ended && started)
          actor.send({
            type: 'provider.failed',
            provider: role,
            retryable: false,
            message: `fell back to ${name}`,
          });
      },
    },
    { conversationId },
  );
  const metrics = new ConversationMetrics(conversationId, {
    stt: deps.providerNames.stt,
    llm: deps.providerNames.llm,
    tts: deps.providerNames.tts ?? speech.speaker.name,
  });
  observed.call = deps.observer?.callStarted({
    conversationId,
    claimId,
    channel: transport.channel,
    callerMasked: maskPhoneNumber(opts.from),
    vendors: metrics.providerNames(),
  });
  const history: DialogueMessage[] = [];

  const turns = createTurnActors({
    dialogue: deps.dialogue,
    fallbackDialogue: deps.fallbackDialogue,
    speaker: speech.speaker,
    callInfo: {
      channel: transport.channel,
      fromMasked: maskPhoneNumber(opts.from),
      companyName: deps.companyName,
      recorded: speech.recording === true,
    },
    history,
    clock,
    log,
    metrics,
    notify,
    transcribes: deps.providerNames.stt !== null,
    logger,
  });
  const actor = createActor(sessionCallMachine, {
    id: `call-${conversationId}`,
    input: {
      conversationId,
      channel: transport.channel,
      claim: { claimId, today: deps.today(), maxAmount: deps.maxClaimAmount },
      timings: opts.timings,
      transcribes: deps.providerNames.stt !== null,
      transfer: {
        available: transport.transfer !== undefined,
        afterMisunderstandings:
          deps.transferAfterMisunderstandings ?? DEFAULT_TRANSFER_AFTER_MISUNDERSTANDINGS,
      },
      preemptive: deps.preemptive ?? true,
    },
    inspect: (ev) => {
      log.inspect(ev);
      deps.inspect?.(ev);
    },
  });
  bindingsBySystem.set(actor.system, {
    respond: turns.respond,
    prepare: turns.prepare,
    stt: speech.stt ?? null,
    hangUp: (reason) => transport.hangUp(reason),
    async transfer(input) {
      if (!transport.transfer) throw new Error('this call cannot be transferred');
      const c = claimRef ? claimViewOf(claimRef.getSnapshot()).context : null;
      logger.info({ cause: input.cause }, 'transferring the call to a person');
      await transport.transfer({
        conversationId,
        cause: input.cause,
        claim: c ? { claimId: c.claimId, claimDate: c.claimDate, claimAmount: c.claimAmount } : null,
      });
    },
    interruptPlayback() {
      try {
        speech.interrupt();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'interrupt failed');
      }
    },
  });
  // What the call machine tells clients (transcripts, keypad offers, fallbacks): its emitted events.
  actor.on('*', (notice: CallNotice) => {
    if (notice.type === 'provider.fallback')
      logger.warn({ provider: notice.provider, scope: notice.scope }, 'provider fallback');
    notify(notice);
  });

  let resolveDone!: (v: { endReason: string }) => void;
  const done = new Promise<{ endReason: string }>((r) => (resolveDone = r));
  const finish = (endReason: string) => {
    if (ended) return;
    ended = true;
    const claim = claimRef ? claimViewOf(claimRef.getSnapshot()) : null;
    log.ended(endReason, claim?.phase ?? null, metrics);
    speech.speaker.close();
    notify({ type: 'session.ended', reason: endReason });
    logger.info({ endReason, claimState: claim?.path, preparedTurns: metrics.preparedTurns() }, 'call ended');
    resolveDone({ endReason });
  };

  actor.subscribe({
    next: (s) => {
      claimRef ??= (s.children.claim as ActorRefFrom<typeof claimMachine> | undefined) ?? null;
      if (s.status === 'done') finish(s.context.endReason ?? 'ended');
    },
    error: (err) => {
      logger.error({ err: (err as Error).message }, 'call machine error');
      finish('error');
    },
  });

  // Observers learn the conversation id before the machines' first state changes.
  notify({ type: 'session.started', conversationId, claimId, channel: transport.channel });
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
  logger.info({ claimId }, 'call started');

  const session: CallSession = {
    conversationId,
    claimId,
    send(event) {
      if (!ended) actor.send(event);
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
      if (actor.getSnapshot().matches('active')) actor.send({ type: 'call.hang_up', reason });
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
