/**
 * What the bot says, and what the LLM is told, for each kind of bot turn that is not simply a claim
 * state's question (the call machine decides which kind a turn is: `TurnReason`, the keypad offer).
 * Per-state wording (questions, keypad hints, acknowledgements) lives in the claim machine's meta.
 *
 * Each entry has `say` (the local voice's template) and `instruction` (one line of the LLM prompt).
 * Placeholders: `{question}` (the state's question), `{keypadOffer}` (the keypad offer, or nothing),
 * `{hint}` (the state's keypad hint), `{claimNumber}`, `{companyName}`, `{callerNumber}` (the
 * `callerNumber` sentence, or nothing), `{recordingNotice}` (the `recordingNotice` sentence when
 * the call is recorded, or nothing), `{callerLast4}`, `{acknowledgement}`, `{error}`.
 */

import type { KeypadOfferReason, TurnReason } from './call.machine.js';

export type { KeypadOfferReason };

/** Why the bot is being given the keypad to offer. */

/** The local voice's words and the LLM's instruction for one kind of turn. */
export interface TurnWording {
  say: string;
  instruction: string;
}

/** Every kind of bot turn whose wording is not a state's question alone. */
export const callTurnWording = {
  greeting: {
    say: "Hello, and thank you for calling {companyName} claims. {recordingNotice} {callerNumber} I've opened a new claim for you. {question}",
    instruction: 'The call just connected: greet the caller first.',
  },
  /** Said in the greeting when the call is recorded (RECORDING=on): the caller must be told. */
  recordingNotice: {
    say: 'This call is recorded.',
    instruction: 'This call is recorded: say so in the greeting, right after the welcome.',
  },
  callerNumber: {
    say: "I see you're calling from the number ending in {callerLast4}.",
    instruction: "The caller's number ends in {callerLast4}.",
  },
  /** The caller stayed silent through every reprompt (`TurnReason` `goodbye`). */
  idleGoodbye: {
    say: "I haven't heard from you, so I'll end the call now. Your claim number is {claimNumber}; you can call back any time to finish it. Goodbye!",
    instruction:
      'The caller stayed silent: say you will end the call now, remind them of their claim number and say goodbye. Do not call tools.',
  },
  /** The caller said goodbye before the claim was finished (`TurnReason` `callerGoodbye`). */
  callerGoodbye: {
    say: 'Thank you for calling. Your claim number is {claimNumber}; you can call back any time to finish it. Goodbye!',
    instruction:
      'The caller is leaving before the claim is finished: thank them, remind them of their claim number and that they can call back to finish it, and say goodbye. Do not call tools.',
  },
  reprompt: {
    say: 'Are you still there? {question} {keypadOffer}',
    instruction: 'The caller has been silent: gently check they are still there and repeat the question.',
  },
  recover: {
    say: 'Sorry about that. {question}',
    instruction: 'Something went wrong on our side: apologise briefly and repeat the question.',
  },
  unheard: {
    say: "Sorry, I didn't catch that. {question} {keypadOffer}",
    instruction:
      'The caller said something we could not transcribe: say you did not catch that and ask again.',
  },
  /**
   * A false interruption cut the bot while its reply was still being written (`TurnReason`
   * `resume`); a reply already written is resumed word for word, without the dialogue.
   */
  resume: {
    say: 'As I was saying, {question} {keypadOffer}',
    instruction:
      'The caller made a sound but said nothing: carry on briefly from where you were cut off (your last message is what they heard) and ask the question again.',
  },
  /** A caller (or keypad) turn: the claim took something (`say` after an accepted answer). */
  answer: {
    say: '{acknowledgement} {question} {keypadOffer}',
    instruction: 'Answer the caller.',
  },
  /** The claim refused a value (`{error}` is the machine's reason). */
  rejected: {
    say: 'Sorry, {error}. {question} {keypadOffer}',
    instruction: 'If a tool result says ok:false, tell the caller why in plain words and ask again.',
  },
  /** A caller turn that gave nothing the claim could take. */
  notUnderstood: {
    say: "Sorry, I didn't catch that. {question} {keypadOffer}",
    instruction: 'Answer the caller.',
  },
  /** The caller said no to a confirmation question. */
  confirmationDeclined: {
    say: 'No problem. Which would you like to change, the date or the amount?',
    instruction: 'If the caller says the details are wrong, ask which one to change: the date or the amount.',
  },
  /** The keypad offer, by why it is made. `{hint}` is the state's keypad hint. */
  keypadOffer: {
    say: '{hint}',
    instruction: 'The caller has not been understood twice: offer the keypad. Tell them: {hint}',
  },
  keypadOfferSttLost: {
    say: "I'm having trouble hearing you. {hint}",
    instruction: 'Speech recognition is down: the caller can only answer with the keypad. Tell them: {hint}',
  },
} as const satisfies Record<string, TurnWording>;

/** The wording of a turn given why it is produced (a caller turn's wording depends on its outcome). */
export function turnWordingFor(reason: TurnReason): TurnWording {
  switch (reason) {
    case 'greeting':
      return callTurnWording.greeting;
    case 'goodbye':
      return callTurnWording.idleGoodbye;
    case 'callerGoodbye':
      return callTurnWording.callerGoodbye;
    case 'reprompt':
      return callTurnWording.reprompt;
    case 'recover':
      return callTurnWording.recover;
    case 'unheard':
      return callTurnWording.unheard;
    case 'resume':
      return callTurnWording.resume;
    case 'user':
    case 'dtmf':
      return callTurnWording.answer;
  }
}

/** The wording entry of a keypad offer. */
export function keypadOfferWording(reason: KeypadOfferReason): TurnWording {
  return reason === 'sttLost' ? callTurnWording.keypadOfferSttLost : callTurnWording.keypadOffer;
}

/**
 * Fills `{name}` placeholders. A placeholder whose value is null or missing makes the whole
 * template unusable (returns null), except the ones listed in `optional`, which become nothing.
 * Spaces left by empty parts are collapsed.
 */
export function fillTemplate(
  template: string,
  values: Readonly<Record<string, string | null | undefined>>,
  optional: readonly string[] = [],
): string | null {
  let missing = false;
  const out = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === null || v === undefined) {
      if (!optional.includes(name)) missing = true;
      return '';
    }
    return v;
  });
  return missing ? null : out.replace(/\s+/g, ' ').trim();
}
