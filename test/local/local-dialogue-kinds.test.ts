/**
 * Whole conversations through the local dialogue and the real claim machine (the same two steps
 * as the engine: the caller's words become tool calls, the claim takes or refuses them, the
 * machines' meta words the reply). One describe per kind of answer the issue listed as failing.
 */
import { createActor } from 'xstate';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { claimViewOf, type ClaimView } from '../../machines/claim/claim.view.js';
import { ClaimGateway } from '../../src/session/claim-gateway.js';
import {
  createLocalDialogue,
  fastAnswerEvents,
  questionFor,
} from '../../src/providers/local/local-dialogue.js';
import type { DialogueMessage, DialogueRequest } from '../../src/providers/types.js';
import type { TurnReason } from '../../machines/call/call.machine.js';

const TODAY = '2026-11-24';
const NUMBER_SPOKEN = 'C. L. M. 4 8 2 1, 0 9 3 7';

/** A caller talking to the local dialogue; the claim is a live actor behind the engine's gateway. */
function call() {
  const actor = createActor(claimMachine, { input: { claimId: 'CLM-4821-0937', today: TODAY } }).start();
  const gateway = new ClaimGateway(actor);
  const dialogue = createLocalDialogue({ today: () => TODAY });
  const request = (history: DialogueMessage[], reason: TurnReason = 'user'): DialogueRequest => ({
    claim: gateway.view(),
    history,
    reason,
    callInfo: { channel: 'terminal', fromMasked: null, companyName: 'Acme' },
    keypadOffer: null,
    signal: new AbortController().signal,
  });
  const text = async (req: DialogueRequest) => {
    let out = '';
    for await (const c of dialogue.respond(req)) if (c.type === 'text') out += c.text;
    return out;
  };
  return {
    /** One caller turn: what the bot answers, and whether the caller was heard leaving. */
    async say(said: string): Promise<{ bot: string; goodbye: boolean }> {
      const history: DialogueMessage[] = [{ role: 'user', content: said }];
      const calls = [];
      for await (const c of dialogue.respond(request(history)))
        if (c.type === 'tool_call') calls.push(c.call);
      if (calls.length === 0) return { bot: await text(request(history)), goodbye: false };
      history.push({ role: 'assistant', content: null, toolCalls: calls });
      let goodbye = false;
      for (const c of calls) {
        if (c.name === 'caller_goodbye_said') goodbye = true;
        const content = goodbye ? '{"ok":true}' : gateway.apply(c).content;
        history.push({ role: 'tool', toolCallId: c.id, content });
      }
      if (goodbye) return { bot: await text(request(history, 'callerGoodbye')), goodbye };
      return { bot: await text(request(history)), goodbye };
    },
    view: (): ClaimView => claimViewOf(actor.getSnapshot()),
    get context() {
      return actor.getSnapshot().context;
    },
    get state() {
      return claimViewOf(actor.getSnapshot()).path;
    },
  };
}

/** A call brought to a state by plain answers. */
async function callAt(step: 'date' | 'amount' | 'readBack') {
  const c = call();
  await c.say('got it');
  if (step === 'date') return c;
  await c.say('March 3rd, 2026');
  if (step === 'amount') return c;
  await c.say('twelve hundred dollars');
  return c;
}

describe('amounts said in digit groups or digit by digit', () => {
  it.each(['twelve fifty', '1 2 5 0 dollars', 'one two five zero', '12 50', 'it was twelve fifty'])(
    '%j at the amount question is $1,250 and the flow moves on to the read-back',
    async (said) => {
      const c = await callAt('amount');
      const { bot } = await c.say(said);
      expect(c.context.claimAmount).toBe(1250);
      expect(c.state).toBe('ongoing.verifying');
      expect(bot).toContain('one thousand two hundred fifty dollars');
    },
  );

  it('asks a short clarifying question for "one twenty five", then takes the answer', async () => {
    const c = await callAt('amount');
    const { bot } = await c.say('one twenty five');
    expect(bot).toBe(
      'Just to be sure, is that one hundred twenty-five dollars or one dollar and twenty-five cents?',
    );
    expect(bot).not.toContain("didn't catch");
    expect(c.context.claimAmount).toBeNull();
    await c.say('a hundred and twenty five dollars');
    expect(c.context.claimAmount).toBe(125);
  });
});

describe('a date that is not a real date never becomes something else', () => {
  it.each([
    ['April 31st, 2026', "that date doesn't exist: April has only 30 days"],
    ['february thirtieth', "that date doesn't exist: February has only 28 days in 2026"],
    ['the thirty first of june', "that date doesn't exist: June has only 30 days"],
  ])('%j is refused aloud and nothing is stored', async (said, reason) => {
    const c = await callAt('date');
    const { bot } = await c.say(said);
    expect(bot).toBe(`Sorry, ${reason}. On what date did the incident happen?`);
    expect(c.context.claimDate).toBeNull();
    expect(c.context.claimAmount).toBeNull();
    expect(c.state).toBe('ongoing.collectingDate');
  });

  it.each(['March 3rd, 1850', 'march third eighteen fifty', '3/3/1850'])(
    'refuses the year out of range in %j aloud, never dropping it',
    async (said) => {
      const c = await callAt('date');
      const { bot } = await c.say(said);
      expect(bot).toMatch(/^Sorry, March 3rd, 1850 is more than 5 years ago/);
      expect(c.context.claimDate).toBeNull();
    },
  );

  it('refuses an impossible date at the amount question without storing an amount', async () => {
    const c = await callAt('amount');
    await c.say('actually the date was April 31st, 2026');
    expect(c.context.claimAmount).toBeNull();
    expect(c.context.claimDate).toBe('2026-03-03');
  });
});

describe('corrections take their context from what is corrected', () => {
  it.each(['no, the date is wrong, it was the fourth', 'no it was the 4th', 'actually the fourth'])(
    'at the read-back of March 3rd, %j stores March 4th',
    async (said) => {
      const c = await callAt('readBack');
      const { bot } = await c.say(said);
      expect(c.context.claimDate).toBe('2026-03-04');
      expect(bot).toContain('March 4th, 2026');
      expect(c.state).toBe('ongoing.verifying');
    },
  );

  it.each(['the nineteenth, no sorry, the twentieth of November', 'November 19th, no wait, November 20th'])(
    'takes the self-correction %j once and moves on to the amount',
    async (said) => {
      const c = await callAt('date');
      const { bot } = await c.say(said);
      expect(c.context.claimDate).toBe('2026-11-20');
      expect(c.state).toBe('ongoing.collectingAmount');
      expect(bot).toBe('Got it, November 20th, 2026. How much are you claiming, in dollars?');
    },
  );

  it('takes a self-corrected amount once and moves on to the read-back', async () => {
    const c = await callAt('amount');
    await c.say('five hundred, no sorry, six hundred dollars');
    expect(c.context.claimAmount).toBe(600);
    expect(c.state).toBe('ongoing.verifying');
  });
});

describe('a "yes" that repeats the values at the read-back', () => {
  it.each([
    "yes March third and twelve hundred, that's right",
    'yes, March 3rd, $1,200, correct',
    "yeah it's twelve hundred dollars on march third",
  ])('%j confirms and files the claim', async (said) => {
    const c = await callAt('readBack');
    const { bot } = await c.say(said);
    expect(c.state).toBe('done');
    expect(c.context.claimStatus).toBe('Pending');
    expect(bot).toContain('filed with status Pending');
  });

  it.each([
    'yes, March third and thirteen hundred',
    "yes march third and thirteen hundred, that's right",
    'yeah, $1,300 on March 3rd',
  ])('treats the yes %j, repeating a different amount, as a correction of it', async (said) => {
    const c = await callAt('readBack');
    const { bot } = await c.say(said);
    expect(c.state).toBe('ongoing.verifying');
    expect(c.context.claimAmount).toBe(1300);
    expect(bot).toContain('one thousand three hundred dollars');
  });

  it('hears an amount said in digit groups in a yes at the read-back', async () => {
    const c = await callAt('readBack');
    await c.say('yes march third and thirteen fifty');
    expect(c.context.claimAmount).toBe(1350);
    expect(c.state).toBe('ongoing.verifying');
  });
});

describe('questions and stalls get answers in any state', () => {
  const states = ['date', 'amount', 'readBack'] as const;

  it.each(states)('reads the claim number out when asked at the %s step', async (step) => {
    const c = await callAt(step);
    const before = c.state;
    const { bot } = await c.say("what's my claim number again?");
    expect(bot).toBe(`Your claim number is ${NUMBER_SPOKEN}. ${questionFor(c.view())}`);
    expect(c.state).toBe(before);
  });

  it('repeats the number in the first state when asked for it', async () => {
    const c = call();
    const { bot } = await c.say('sorry, what was the claim number?');
    expect(bot).toContain(NUMBER_SPOKEN);
    expect(c.context.numberRepeats).toBe(1);
  });

  it.each(states)(
    'gives the state’s one-line reason to "why do you need that?" at the %s step',
    async (step) => {
      const c = await callAt(step);
      const { bot } = await c.say('why do you need that?');
      expect(bot.startsWith(c.view().why)).toBe(true);
      expect(c.view().why.length).toBeGreaterThan(10);
    },
  );

  it.each([
    ['amount', "I don't know", /estimate is fine/],
    ['amount', 'hang on, let me check', /take your time/i],
    ['date', "I'm not sure", /best estimate is fine/],
    ['date', 'one moment please', /take your time/i],
    ['readBack', 'hold on', /take your time/i],
  ] as const)('at the %s step, %j gets patience and a way forward', async (step, said, expected) => {
    const c = await callAt(step);
    const before = c.state;
    const { bot } = await c.say(said);
    expect(bot).toMatch(expected);
    expect(bot).not.toContain("didn't catch");
    expect(c.state).toBe(before);
  });

  it.each([
    ['the amount', 'ongoing.collectingAmount', 'Of course. How much are you claiming, in dollars?'],
    ['amount', 'ongoing.collectingAmount', 'Of course. How much are you claiming, in dollars?'],
    ['the date', 'ongoing.collectingDate', 'Of course. On what date did the incident happen?'],
    ['no, the date is wrong', 'ongoing.collectingDate', 'Of course. On what date did the incident happen?'],
  ])('after "which would you like to change?", %j asks for that field', async (said, state, bot) => {
    const c = await callAt('readBack');
    expect((await c.say('no')).bot).toContain('Which would you like to change');
    expect((await c.say(said)).bot).toBe(bot);
    expect(c.state).toBe(state);
  });

  it('takes the new amount after asking for it, keeping the date, and reads both back', async () => {
    const c = await callAt('readBack');
    await c.say('the amount');
    const { bot } = await c.say('fifteen hundred');
    expect(c.context).toMatchObject({ claimDate: '2026-03-03', claimAmount: 1500 });
    expect(bot).toContain('March 3rd, 2026, and you are claiming one thousand five hundred dollars');
  });

  it('takes a day-only new date after asking for it, in the month being corrected', async () => {
    const c = await callAt('readBack');
    await c.say('the date');
    await c.say('the fourth');
    expect(c.context.claimDate).toBe('2026-03-04');
    expect(c.state).toBe('ongoing.verifying');
  });
});

describe('goodbye mid-flow', () => {
  it.each([
    ['first', 'okay, bye'],
    ['date', 'sorry, I have to go, bye'],
    ['amount', 'I need to go now, goodbye'],
    ['readBack', 'bye'],
    ['readBack', 'okay, bye'],
    ['readBack', 'alright, thanks, goodbye'],
  ] as const)(
    'at the %s step, %j says goodbye with the claim number and files nothing',
    async (step, said) => {
      const c = step === 'first' ? call() : await callAt(step);
      const { bot, goodbye } = await c.say(said);
      expect(goodbye).toBe(true);
      expect(bot).toContain(`Your claim number is ${NUMBER_SPOKEN}`);
      expect(bot).toContain('Goodbye');
      expect(c.context.claimStatus).toBe('Open');
    },
  );

  it('keeps a value said with the goodbye', async () => {
    const c = await callAt('date');
    const { goodbye } = await c.say('it was March 3rd, bye');
    expect(goodbye).toBe(true);
    expect(c.context.claimDate).toBe('2026-03-03');
  });

  it('files the claim when the goodbye comes with the confirmation', async () => {
    const c = await callAt('readBack');
    const { goodbye } = await c.say("yes that's right, thanks, bye");
    expect(goodbye).toBe(false);
    expect(c.state).toBe('done');
  });

  it.each(['okay, bye', 'goodbye', 'I have to go'])(
    'leaves %j to the dialogue on the fast path (which ends the call)',
    async (said) => {
      const c = await callAt('amount');
      expect(fastAnswerEvents(c.view(), said, TODAY)).toBeNull();
    },
  );
});

describe('the fast path leaves questions and stalls to the dialogue', () => {
  it.each(["what's my claim number", 'why do you need that', "I don't know", 'hang on', 'one twenty five'])(
    '%j',
    async (said) => {
      const c = await callAt('amount');
      expect(fastAnswerEvents(c.view(), said, TODAY)).toBeNull();
    },
  );

  it.each([
    ['twelve fifty', [{ type: 'claim.amount.provided', amount: 1250 }]],
    ['1 2 5 0 dollars', [{ type: 'claim.amount.provided', amount: 1250 }]],
  ])('reads %j itself', async (said, events) => {
    const c = await callAt('amount');
    expect(fastAnswerEvents(c.view(), said, TODAY)).toEqual(events);
  });
});
