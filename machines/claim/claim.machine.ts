/**
 * The claim machine: the business flow of an insurance-claim intake.
 *
 *   initial ──acknowledged──▶ ongoing(collectingDate ▸ collectingAmount ▸ verifying) ──confirmed──▶ done
 *
 * Pure: no invoke, no after, no I/O (so `xstate/graph` can walk it and QA can replay it).
 * Its events are the dialogue's tools (see `claim.events.ts`). A value that fails a guard is not an
 * exception: the machine stays where it is and records `lastRejection`, which the dialogue reads as
 * the tool result and uses to ask again.
 */
import { and, assign, setup } from 'xstate';
import type { ArglessClaimEventType, ClaimEvent } from './claim.events.js';
import { validateClaimAmount, validateClaimDate } from './claim.validation.js';

/** How the call machine treats the caller's turns while the claim is in a state (from its meta). */
export interface StatePolicy {
  /** May the caller cut the bot off while it speaks in this state? */
  interruptible: boolean;
  /**
   * Extra silence (ms) to wait after the STT says the caller stopped, before answering. Skipped
   * when the words already hold a complete answer to the state's question (`answer-completeness.ts`).
   */
  endpointingPatienceMs: number;
}

/** The turn policy the call machine keeps in its context: the state's policy and its keypad mode. */
export interface TurnPolicy extends StatePolicy {
  /**
   * What keypad digits mean here: `answer`: a lone digit is an answer at once (1 = yes);
   * `entry`: digits build a value (a date, an amount) until `#`, so it may start with 1 or 2.
   */
  keypad: 'answer' | 'entry';
  /** The kind of answer the state's question expects (semantic endpointing reads it). */
  expects: AnswerKind;
}

/** The kind of answer a state's question expects (decides how a bare number is read, among others). */
export type AnswerKind = 'acknowledgement' | 'date' | 'amount' | 'confirmation' | 'none';

/** A key on the phone keypad that can be an answer on its own. */
export type KeypadDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';

/** What the keypad does in a state. */
export type KeypadMeta =
  | {
      /** A lone digit is an answer at once: each digit listed sends its claim event. */
      mode: 'answer';
      answers: Partial<Record<KeypadDigit, ArglessClaimEventType>>;
      /** The sentence that tells the caller how to use the keypad here. */
      hint: string;
    }
  | {
      /** Digits build a value until `#`: a date as MMDDYYYY, an amount with `*` as the point. */
      mode: 'entry';
      builds: 'date' | 'amount';
      hint: string;
    };

/**
 * What each claim state's `meta` holds: everything a designer would call the product in that state.
 * Templates (`question`, `acknowledgement`) may use `{claimNumber}`, `{claimDate}` and
 * `{claimAmount}`; the local voice fills them with their spoken forms.
 */
export interface ClaimStateMeta {
  /** A human name for the state ("Collecting the date"), for charts, logs and the LLM prompt. */
  label: string;
  /** The bot's goal here (LLM prompt). */
  goal: string;
  /** What the local voice says to move this state forward (template). */
  question: string;
  /** The kind of answer the question expects. */
  expects: AnswerKind;
  /** The keypad here, or null where it does nothing. */
  keypad: KeypadMeta | null;
  /** Said before the question when this state was just reached by an accepted answer (template), or null. */
  acknowledgement: string | null;
  /** One line that answers "why do you need that?" here (the local voice says it, then the question). */
  why: string;
  /**
   * What the bot says to a caller who needs time or does not know ("hang on", "I don't know"):
   * patience and a way forward. Said instead of the question.
   */
  stall: string;
  turnPolicy: StatePolicy;
}

/** Why the last value offered to the machine was refused (shown to the dialogue). */
export interface ClaimRejection {
  eventType: ClaimEvent['type'];
  field: 'date' | 'amount' | null;
  value: string;
  reason: string;
}

/** The claim machine's context. Serializable data only. */
export interface ClaimContext {
  claimId: string;
  claimDate: string | null;
  claimAmount: number | null;
  claimStatus: 'Open' | 'Pending';
  numberAcknowledged: boolean;
  detailsConfirmed: boolean;
  /** How many times the caller asked to hear the claim number again. */
  numberRepeats: number;
  lastRejection: ClaimRejection | null;
  /** Reference date (YYYY-MM-DD) for date guards, fixed at call start so replays are deterministic. */
  today: string;
  maxAmount: number;
  maxAgeDays: number;
}

/** Input to start a claim: the issued number and the validation limits. */
export interface ClaimInput {
  claimId: string;
  today: string;
  maxAmount?: number;
  maxAgeDays?: number;
}

/** Default cap on a claim amount, dollars. */
export const DEFAULT_MAX_CLAIM_AMOUNT = 1_000_000;
/** Default maximum age of an incident, days (about 5 years). */
export const DEFAULT_MAX_CLAIM_AGE_DAYS = 5 * 366;

type E<T extends ClaimEvent['type']> = Extract<ClaimEvent, { type: T }>;

function correctionCheck(ctx: ClaimContext, e: E<'claim.field.corrected'>) {
  return e.field === 'date'
    ? validateClaimDate(e.value, ctx.today, ctx.maxAgeDays)
    : validateClaimAmount(e.value, ctx.maxAmount);
}

/** The claim machine definition (see file header). */
export const claimMachine = setup({
  types: {
    context: {} as ClaimContext,
    events: {} as ClaimEvent,
    input: {} as ClaimInput,
    meta: {} as ClaimStateMeta,
    output: {} as ClaimContext,
  },
  guards: {
    dateValid: ({ context, event }) =>
      event.type === 'claim.date.provided' &&
      validateClaimDate(event.date, context.today, context.maxAgeDays).ok,
    amountValid: ({ context, event }) =>
      event.type === 'claim.amount.provided' && validateClaimAmount(event.amount, context.maxAmount).ok,
    correctionValid: ({ context, event }) =>
      event.type === 'claim.field.corrected' && correctionCheck(context, event).ok,
    hasDate: ({ context }) => context.claimDate !== null,
    /** The caller asked to change the date (at the read-back). */
    changesDate: ({ event }) => event.type === 'claim.field.change_requested' && event.field === 'date',
    /** This correction is of the date (so the amount is what may still be missing). */
    correctsDate: ({ event }) => event.type === 'claim.field.corrected' && event.field === 'date',
    hasAmount: ({ context }) => context.claimAmount !== null,
    /** After this correction, would both fields be known? */
    completeAfterCorrection: ({ context, event }) =>
      event.type === 'claim.field.corrected' &&
      (event.field === 'date' ? context.claimAmount !== null : context.claimDate !== null),
  },
  actions: {
    acknowledgeNumber: assign({ numberAcknowledged: true, lastRejection: null }),
    countRepeat: assign({ numberRepeats: ({ context }) => context.numberRepeats + 1 }),
    acceptDate: assign(({ event }) => ({
      claimDate: event.type === 'claim.date.provided' ? event.date : null,
      lastRejection: null,
    })),
    acceptAmount: assign(({ context, event }) => {
      if (event.type !== 'claim.amount.provided') return {};
      const v = validateClaimAmount(event.amount, context.maxAmount);
      return { claimAmount: v.ok ? v.value : context.claimAmount, lastRejection: null };
    }),
    acceptCorrection: assign(({ context, event }) => {
      if (event.type !== 'claim.field.corrected') return {};
      const v = correctionCheck(context, event);
      if (!v.ok) return {};
      return event.field === 'date'
        ? { claimDate: String(v.value), lastRejection: null }
        : { claimAmount: Number(v.value), lastRejection: null };
    }),
    rejectDate: assign(({ context, event }) => {
      if (event.type !== 'claim.date.provided') return {};
      const v = validateClaimDate(event.date, context.today, context.maxAgeDays);
      return {
        lastRejection: {
          eventType: event.type,
          field: 'date' as const,
          value: event.date,
          reason: v.ok ? 'not accepted' : v.reason,
        },
      };
    }),
    rejectAmount: assign(({ context, event }) => {
      if (event.type !== 'claim.amount.provided') return {};
      const v = validateClaimAmount(event.amount, context.maxAmount);
      return {
        lastRejection: {
          eventType: event.type,
          field: 'amount' as const,
          value: String(event.amount),
          reason: v.ok ? 'not accepted' : v.reason,
        },
      };
    }),
    rejectCorrection: assign(({ context, event }) => {
      if (event.type !== 'claim.field.corrected') return {};
      const v = correctionCheck(context, event);
      return {
        lastRejection: {
          eventType: event.type,
          field: event.field,
          value: event.value,
          reason: v.ok ? 'not accepted' : v.reason,
        },
      };
    }),
    clearRejection: assign({ lastRejection: null }),
    markPending: assign({ claimStatus: 'Pending' as const, detailsConfirmed: true, lastRejection: null }),
  },
}).createMachine({
  id: 'claim',
  initial: 'initial',
  context: ({ input }) => ({
    claimId: input.claimId,
    claimDate: null,
    claimAmount: null,
    claimStatus: 'Open',
    numberAcknowledged: false,
    detailsConfirmed: false,
    numberRepeats: 0,
    lastRejection: null,
    today: input.today,
    maxAmount: input.maxAmount ?? DEFAULT_MAX_CLAIM_AMOUNT,
    maxAgeDays: input.maxAgeDays ?? DEFAULT_MAX_CLAIM_AGE_DAYS,
  }),
  output: ({ context }) => context,
  states: {
    initial: {
      meta: {
        label: 'Reading out the claim number',
        goal:
          'Greet the caller, tell them a new claim has been opened and read out their claim number ' +
          'digit by digit in groups. Ask them to note it down and say when they have it. If they ask, repeat it.',
        question:
          'Your claim number is {claimNumber}. Please note it down, and say "got it" when you\'re ready, or "repeat" to hear it again.',
        expects: 'acknowledgement',
        keypad: {
          mode: 'answer',
          answers: { '1': 'claim.number.acknowledged', '2': 'claim.number.repeat_requested' },
          hint: 'You can also press 1 when you have it, or 2 to hear it again.',
        },
        acknowledgement: 'Of course.',
        why: 'Your claim number is how you and our adjusters find this claim later, so it is worth writing down.',
        stall:
          'Take your time, I will wait. Say "got it" when you have noted the number, or "repeat" to hear it again.',
        turnPolicy: { interruptible: false, endpointingPatienceMs: 0 },
      },
      on: {
        'claim.number.acknowledged': { target: 'ongoing', actions: 'acknowledgeNumber' },
        'claim.number.repeat_requested': { target: 'initial', reenter: true, actions: 'countRepeat' },
      },
    },
    ongoing: {
      initial: 'collectingDate',
      on: {
        'claim.field.corrected': [
          {
            guard: and(['correctionValid', 'completeAfterCorrection']),
            target: '.verifying',
            reenter: true,
            actions: 'acceptCorrection',
          },
          // A correction taken before both fields are known moves on to the one still missing
          // ("the 19th, no sorry, the 20th": the date is taken once and the amount is asked).
          {
            guard: and(['correctionValid', 'correctsDate']),
            target: '.collectingAmount',
            actions: 'acceptCorrection',
          },
          { guard: 'correctionValid', target: '.collectingDate', actions: 'acceptCorrection' },
          { actions: 'rejectCorrection' },
        ],
      },
      states: {
        collectingDate: {
          meta: {
            label: 'Collecting the date',
            goal: 'Ask the caller on what date the incident happened.',
            question: 'On what date did the incident happen?',
            expects: 'date',
            keypad: {
              mode: 'entry',
              builds: 'date',
              hint: 'You can also type the date on your keypad as two digits for the month, two for the day and four for the year, then press pound.',
            },
            acknowledgement: 'Thank you.',
            why: 'The date of the incident tells us which policy period covers it, so I need it to open the file.',
            stall:
              "No problem, take your time. If you're not sure of the exact day, your best estimate is fine; you can correct it before we file.",
            turnPolicy: { interruptible: true, endpointingPatienceMs: 400 },
          },
          on: {
            'claim.date.provided': [
              { guard: and(['dateValid', 'hasAmount']), target: 'verifying', actions: 'acceptDate' },
              { guard: 'dateValid', target: 'collectingAmount', actions: 'acceptDate' },
              { actions: 'rejectDate' },
            ],
            'claim.amount.provided': [
              { guard: 'amountValid', actions: 'acceptAmount' },
              { actions: 'rejectAmount' },
            ],
          },
        },
        collectingAmount: {
          meta: {
            label: 'Collecting the amount',
            goal: 'Ask the caller how much they are claiming, in US dollars.',
            question: 'How much are you claiming, in dollars?',
            expects: 'amount',
            keypad: {
              mode: 'entry',
              builds: 'amount',
              hint: 'You can also type the amount on your keypad, using star for the decimal point, then press pound.',
            },
            acknowledgement: 'Got it, {claimDate}.',
            why: 'The amount is where the adjuster starts when assessing your claim.',
            stall:
              "That's fine, take your time. If you don't have the exact figure yet, an estimate is fine; the adjuster will confirm it with you.",
            turnPolicy: { interruptible: true, endpointingPatienceMs: 400 },
          },
          on: {
            'claim.amount.provided': [
              { guard: and(['amountValid', 'hasDate']), target: 'verifying', actions: 'acceptAmount' },
              { guard: 'amountValid', actions: 'acceptAmount' },
              { actions: 'rejectAmount' },
            ],
            'claim.date.provided': [
              { guard: and(['dateValid', 'hasAmount']), target: 'verifying', actions: 'acceptDate' },
              { guard: 'dateValid', actions: 'acceptDate' },
              { actions: 'rejectDate' },
            ],
          },
        },
        verifying: {
          meta: {
            goal:
              'Read the claim date and amount back to the caller and ask them to confirm both are correct, ' +
              'or to say which one to change.',
            label: 'Reading the details back',
            question:
              'Let me read that back. The incident happened on {claimDate}, and you are claiming {claimAmount}. Is that correct?',
            expects: 'confirmation',
            keypad: {
              mode: 'answer',
              answers: { '1': 'claim.details.confirmed' },
              hint: 'You can also press 1 if everything is correct.',
            },
            acknowledgement: null,
            why: 'I read the details back so that nothing is filed with a mistake in it.',
            stall:
              'Take your time. When you are ready, tell me if the date and the amount are correct, or which one to change.',
            turnPolicy: { interruptible: true, endpointingPatienceMs: 0 },
          },
          on: {
            'claim.details.confirmed': { target: '#claim.done', actions: 'markPending' },
            // "Which would you like to change?" "The amount.": ask for that field again.
            'claim.field.change_requested': [
              { guard: 'changesDate', target: 'collectingDate', actions: 'clearRejection' },
              { target: 'collectingAmount', actions: 'clearRejection' },
            ],
            'claim.date.provided': [
              { guard: 'dateValid', target: 'verifying', reenter: true, actions: 'acceptDate' },
              { actions: 'rejectDate' },
            ],
            'claim.amount.provided': [
              { guard: 'amountValid', target: 'verifying', reenter: true, actions: 'acceptAmount' },
              { actions: 'rejectAmount' },
            ],
          },
        },
      },
    },
    done: {
      type: 'final',
      meta: {
        goal:
          'Tell the caller their claim is filed with status Pending and that an adjuster will be in touch, ' +
          'thank them and say goodbye.',
        label: 'Claim filed',
        question:
          'Your claim, number {claimNumber}, is now filed with status Pending. An adjuster will be in touch within two business days. Thank you for calling, goodbye!',
        expects: 'none',
        keypad: null,
        acknowledgement: null,
        why: 'Your claim is filed; an adjuster will contact you to assess it.',
        stall: 'There is nothing more you need to do now; an adjuster will be in touch.',
        turnPolicy: { interruptible: false, endpointingPatienceMs: 0 },
      },
    },
  },
});
