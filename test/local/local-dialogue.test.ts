/**
 * The local dialogue speaks and acts from the machines alone: each state's meta (question,
 * expected answer, keypad, acknowledgement) and the call's turn wording. Nothing here names a claim
 * state: each state is reached by sending the claim machine its events.
 */
import { initialTransition, transition } from 'xstate';
import { callTurnWording } from '../../machines/call/call.wording.js';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import type { ClaimToolEvent } from '../../machines/claim/claim.events.js';
import { claimViewOf, type ClaimView } from '../../machines/claim/claim.view.js';
import {
  createLocalDialogue,
  fastAnswerEvents,
  speechFor,
} from '../../src/providers/local/local-dialogue.js';
import { dtmfToClaimEvents } from '../../machines/claim/claim.keypad.js';
import type { DialogueChunk, DialogueMessage, DialogueRequest } from '../../src/providers/types.js';

const TODAY = '2026-11-24';

function viewAfter(events: ClaimToolEvent[]): ClaimView {
  let [s] = initialTransition(claimMachine, { claimId: 'CLM-4821-0937', today: TODAY });
  for (const e of events) [s] = transition(claimMachine, s, e);
  return claimViewOf(s);
}
const atDate = () => viewAfter([{ type: 'claim.number.acknowledged' }]);
const atAmount = () =>
  viewAfter([{ type: 'claim.number.acknowledged' }, { type: 'claim.date.provided', date: '2026-03-03' }]);
const atReadBack = () =>
  viewAfter([
    { type: 'claim.number.acknowledged' },
    { type: 'claim.date.provided', date: '2026-03-03' },
    { type: 'claim.amount.provided', amount: 1250.5 },
  ]);

function request(claim: ClaimView, over: Partial<DialogueRequest> = {}): DialogueRequest {
  return {
    claim,
    history: [],
    reason: 'user',
    callInfo: { channel: 'terminal', fromMasked: null, companyName: 'Acme' },
    keypadOffer: null,
    signal: new AbortController().signal,
    ...over,
  };
}

async function chunks(req: DialogueRequest): Promise<DialogueChunk[]> {
  const out: DialogueChunk[] = [];
  for await (const c of createLocalDialogue({ today: () => TODAY }).respond(req)) out.push(c);
  return out;
}
const toolCalls = async (claim: ClaimView, said: string) =>
  (await chunks(request(claim, { history: [{ role: 'user', content: said }] })))
    .filter((c) => c.type === 'tool_call')
    .map((c) => (c.type === 'tool_call' ? { name: c.call.name, args: JSON.parse(c.call.arguments) } : null));
const okResult = (): DialogueMessage[] => [
  { role: 'user', content: 'x' },
  { role: 'assistant', content: null, toolCalls: [{ id: 't1', name: 'x', arguments: '{}' }] },
  { role: 'tool', toolCallId: 't1', content: '{"ok":true}' },
];

describe('local dialogue (meta-driven)', () => {
  it('asks the question of the state’s meta, with the claim values in their spoken forms', () => {
    const view = atReadBack();
    expect(view.question).toContain('{claimDate}');
    expect(speechFor(request(view, { reason: 'recover' }), TODAY)).toBe(
      'Sorry about that. Let me read that back. The incident happened on March 3rd, 2026, and you are claiming one thousand two hundred fifty dollars and fifty cents. Is that correct?',
    );
  });

  it('tells the caller the call is recorded in the greeting, and only when it is', () => {
    const initial = viewAfter([]);
    const greeting = (recorded: boolean) =>
      speechFor(
        request(initial, {
          reason: 'greeting',
          callInfo: { channel: 'phone', fromMasked: null, companyName: 'Acme', recorded },
        }),
        TODAY,
      );
    expect(greeting(true)).toContain(`Acme claims. ${callTurnWording.recordingNotice.say} I've opened`);
    expect(greeting(false)).toContain("Acme claims. I've opened");
  });

  it('says whatever a designer writes in the meta: no wording of its own per state', () => {
    const view = { ...atDate(), question: 'When did it happen?', acknowledgement: 'Lovely.' };
    expect(speechFor(request(view, { reason: 'reprompt' }), TODAY)).toBe(
      'Are you still there? When did it happen?',
    );
    expect(speechFor(request(view, { history: okResult() }), TODAY)).toBe('Lovely. When did it happen?');
  });

  it('puts the state’s acknowledgement before the question after an accepted answer', () => {
    expect(speechFor(request(atAmount(), { history: okResult() }), TODAY)).toBe(
      'Got it, March 3rd, 2026. How much are you claiming, in dollars?',
    );
  });

  it('offers the keypad with the state’s hint when the call machine asks for it', () => {
    const view = atAmount();
    const offered = speechFor(request(view, { reason: 'unheard', keypadOffer: 'misunderstood' }), TODAY);
    expect(offered).toBe(`Sorry, I didn't catch that. ${view.question} ${view.keypad!.hint}`);
    const lost = speechFor(request(view, { reason: 'reprompt', keypadOffer: 'sttLost' }), TODAY);
    expect(lost).toContain(`I'm having trouble hearing you. ${view.keypad!.hint}`);
    expect(speechFor(request(view, { reason: 'unheard' }), TODAY)).not.toContain(view.keypad!.hint);
  });

  it('takes a bare "twenty" as $20 at the amount question', async () => {
    expect(await toolCalls(atAmount(), 'twenty')).toEqual([
      { name: 'claim_amount_provided', args: { amount: 20 } },
    ]);
  });

  it('does not take a bare "twenty" as an amount at the date question (it is the 20th)', async () => {
    expect(await toolCalls(atDate(), 'twenty')).toEqual([
      { name: 'claim_date_provided', args: { date: '2026-11-20' } },
    ]);
  });

  it('turns a caller’s goodbye mid-claim into the call-level goodbye tool', async () => {
    expect(await toolCalls(atDate(), 'sorry, I have to go, bye')).toEqual([
      { name: 'caller_goodbye_said', args: {} },
    ]);
  });

  it('says the call machine’s goodbye, with the claim number, when the caller leaves', () => {
    const said = speechFor(request(atDate(), { reason: 'callerGoodbye' }), TODAY);
    expect(said).toBe(
      'Thank you for calling. Your claim number is C. L. M. 4 8 2 1, 0 9 3 7; you can call back any time to finish it. Goodbye!',
    );
  });

  it('asks which detail to change when the caller says no to a confirmation question', () => {
    const said = speechFor(request(atReadBack(), { history: [{ role: 'user', content: 'no' }] }), TODAY);
    expect(said).toBe(callTurnWording.confirmationDeclined.say);
  });
});

describe('keypad (meta-driven)', () => {
  it('maps a lone digit to the event the state’s meta names, only where the state accepts it', () => {
    expect(dtmfToClaimEvents(viewAfter([]), '1')).toEqual([{ type: 'claim.number.acknowledged' }]);
    expect(dtmfToClaimEvents(viewAfter([]), '2')).toEqual([{ type: 'claim.number.repeat_requested' }]);
    expect(dtmfToClaimEvents(atReadBack(), '1')).toEqual([{ type: 'claim.details.confirmed' }]);
    expect(dtmfToClaimEvents(atReadBack(), '2')).toEqual([]);
  });

  it('reads an entry as the value the state’s meta says the digits build', () => {
    expect(dtmfToClaimEvents(atDate(), '03032026')).toEqual([
      { type: 'claim.date.provided', date: '2026-03-03' },
    ]);
    expect(dtmfToClaimEvents(atAmount(), '1250*5')).toEqual([
      { type: 'claim.amount.provided', amount: 1250.5 },
    ]);
  });
});

describe('fast path (a plain answer needs no LLM)', () => {
  const read = (claim: ClaimView, said: string) => fastAnswerEvents(claim, said, TODAY);

  it.each([
    [atDate, 'March 3rd, 2026', [{ type: 'claim.date.provided', date: '2026-03-03' }]],
    [atDate, 'it was yesterday', [{ type: 'claim.date.provided', date: '2026-11-23' }]],
    [atDate, 'January 1st, 2027', [{ type: 'claim.date.provided', date: '2027-01-01' }]],
    [atAmount, 'twelve hundred fifty dollars', [{ type: 'claim.amount.provided', amount: 1250 }]],
    [atAmount, '$900', [{ type: 'claim.amount.provided', amount: 900 }]],
    [atReadBack, "yes, that's correct", [{ type: 'claim.details.confirmed' }]],
    [
      atReadBack,
      'no, the amount is 900 dollars',
      [{ type: 'claim.field.corrected', field: 'amount', value: '900.00' }],
    ],
  ] as const)('reads the answer the state expects: %#', (at, said, events) => {
    expect(read(at(), said)).toEqual(events);
  });

  it('reads the acknowledgement of the claim number', () => {
    const first = claimViewOf(initialTransition(claimMachine, { claimId: 'CLM-4821-0937', today: TODAY })[0]);
    expect(read(first, 'okay, got it')).toEqual([{ type: 'claim.number.acknowledged' }]);
  });

  it.each([
    [atDate, 'why do you need the date?'],
    [atDate, 'what date is it today'],
    [atDate, 'maybe March 3rd'],
    [atDate, 'I think it was March 3rd'],
    [atDate, 'March 3rd or March 4th'],
    [atDate, 'I was driving home from work when a truck hit me on March 3rd near the bridge'],
    [atAmount, 'not sure, maybe 900'],
    [atAmount, 'the receipt is somewhere'],
    [atReadBack, 'no'],
    [atReadBack, 'Mm-hmm.'],
    [atReadBack, 'yes, but no'],
    [atReadBack, 'yes but wait'],
    [atDate, 'goodbye'],
    [atDate, ''],
  ] as const)('leaves the turn to the dialogue: %#', (at, said) => {
    expect(read(at(), said)).toBeNull();
  });
});
