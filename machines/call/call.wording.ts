/**
 * What the bot says, and what the LLM is told, for each kind of bot turn that is not simply a claim
 * state's question (the call machine decides which kind a turn is: `TurnReason`, the keypad offer).
 * Per-state wording (questions, keypad hints, acknowledgements) lives in the claim machine's meta.
 *
 * Each entry has `say` (the local voice's template) and `instruction` (one line of the LLM prompt).
 * Placeholders: `{question}` (the state's question), `{keypadOffer}` (the keypad offer, or nothing),
 * `{hint}` (the state's keypad hint), `{claimNumber}`, `{companyName}`, `{callerNumber}` (the
 * `callerNumber` sentence, or nothing), `{recordingNotice}` (the `recordingNotice` sentence when
 * the call is recorded, or nothing), `{callerLast4}`, `{acknowledgement}`, `{error}`, `{why}` and
 * `{stall}` (the state's meta), `{choices}` (an unclear amount's readings).
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
  /** The caller is being connected to a person (`TurnReason` `transfer`); the redirect follows once it played. */
  transfer: {
    say: "I'll connect you with a member of our claims team now. Your claim number is {claimNumber}. Please stay on the line.",
    instruction:
      'The caller is being transferred to a person: say you are connecting them, remind them of their claim number, and ask them to stay on the line. Do not call tools.',
  },
  /** The caller asked for a person on a line without transfers (no TRANSFER_NUMBER, a browser call). */
  transferUnavailable: {
    say: "I'm sorry, I can't transfer you to a person on this line, but I can help you here. {question} {keypadOffer}",
    instruction:
      'The caller asked for a person, but transfers are not available on this line: say so briefly, offer to help and repeat the question.',
  },
  /** The transfer was tried and failed (the redirect was refused or timed out); the call goes on. */
  transferFailed: {
    say: "I'm sorry, I couldn't reach a member of our team right now. Let's continue here. {question} {keypadOffer}",
    instruction:
      'The transfer to a person failed: apologise briefly, say you will continue together and repeat the question.',
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
  /** The caller asked for their claim number in a state past the first one. */
  claimNumber: {
    say: 'Your claim number is {claimNumber}. {question}',
    instruction:
      'If the caller asks for their claim number, read it out digit by digit in groups, then ask the question again.',
  },
  /** The caller asked why the bot needs what it asks for (`{why}`: the state's meta). */
  why: {
    say: '{why} {question}',
    instruction: 'If the caller asks why you need this, answer in one sentence: "{why}", then ask again.',
  },
  /** The caller needs time or does not know (`{stall}`: the state's meta). */
  stall: {
    say: '{stall} {keypadOffer}',
    instruction:
      'If the caller needs time or does not know ("hang on", "I don\'t know"), be patient and give a way forward: "{stall}"',
  },
  /** An amount said in a way that reads two ways (`{choices}`: its readings in words). */
  amountUnclear: {
    say: 'Just to be sure, is that {choices}?',
    instruction:
      'If an amount could be read two ways ("one twenty five": 125 or 1.25), ask which one the caller meant before recording it.',
  },
  /** At the read-back, the caller named the detail to change; the state now asks for it. */
  changeRequested: {
    say: 'Of course. {question} {keypadOffer}',
    instruction: 'Answer the caller.',
  },
  /** How values are said and passed (an instruction only: the local voice formats values itself). */
  values: {
    say: '',
    instruction:
      'Say amounts as money in words ("one million dollars", "twelve hundred fifty dollars"), never as bare digits. ' +
      'Pass a date to a tool with the year and day exactly as the caller said them, even one that does not exist ' +
      '(April 31st is 2026-04-31): never move it to another day or replace a year you heard; the system checks it.',
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
    case 'transfer':
      return callTurnWording.transfer;
    case 'transferUnavailable':
      return callTurnWording.transferUnavailable;
    case 'transferFailed':
      return callTurnWording.transferFailed;
    case 'user':
    case 'dtmf':
      return callTurnWording.answer;
  }
}

/**
 * Turns whose words are the machines' fixed wording, never a model's: the caller's goodbye and the
 * transfer turns (the words must match what the call does next).
 */
export function isScriptedTurn(reason: TurnReason): boolean {
  return (
    reason === 'callerGoodbye' ||
    reason === 'transfer' ||
    reason === 'transferUnavailable' ||
    reason === 'transferFailed'
  );
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
