/**
 * The OpenAI prompt and tools come from the machines: the state's label and goal, the machines'
 * instruction for the kind of turn, the keypad hint of the state, and the call-level goodbye tool.
 */
import { initialTransition } from 'xstate';
import { callTurnWording } from '../../machines/call/call.wording.js';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { claimViewOf } from '../../machines/claim/claim.view.js';
import { systemPromptFor, toolsFor } from '../../src/providers/openai/openai-dialogue.js';
import type { DialogueRequest } from '../../src/providers/types.js';

const claim = claimViewOf(
  initialTransition(claimMachine, { claimId: 'CLM-4821-0937', today: '2026-11-24' })[0],
);
const req = (over: Partial<DialogueRequest> = {}): DialogueRequest => ({
  claim,
  history: [],
  reason: 'user',
  callInfo: { channel: 'phone', fromMasked: '…4567', companyName: 'Acme' },
  keypadOffer: null,
  signal: new AbortController().signal,
  ...over,
});

describe('OpenAI prompt (from the machines)', () => {
  it("names the state's label and goal and the machines' instruction for the turn", () => {
    const p = systemPromptFor(req({ reason: 'reprompt' }), '2026-11-24');
    expect(p).toContain(`Current step: ${claim.label}. Goal of this step: ${claim.goal}`);
    expect(p).toContain(callTurnWording.reprompt.instruction);
    expect(p).toContain("The caller's number ends in 4567.");
  });

  it("gives the state's one-line reason and patient answer, and says values as money and as said", () => {
    const p = systemPromptFor(req(), '2026-11-24');
    expect(p).toContain(claim.why);
    expect(p).toContain(claim.stall);
    expect(p).toContain(callTurnWording.values.instruction);
    expect(p).toContain(callTurnWording.amountUnclear.instruction);
    expect(p).toContain(callTurnWording.claimNumber.instruction);
    const known = { ...claim, context: { ...claim.context, claimAmount: 1_000_000 } };
    expect(systemPromptFor(req({ claim: known }), '2026-11-24')).toContain('(say: one million dollars)');
  });

  it("offers the keypad with the state's own hint when the call machine asks", () => {
    const p = systemPromptFor(req({ keypadOffer: 'sttLost' }), '2026-11-24');
    expect(p).toContain(claim.keypad!.hint);
    expect(p).toContain('Speech recognition is down');
  });

  it('offers the claim tools of the state plus the call-level tools (goodbye, a person), and no tools while saying goodbye', () => {
    const names = toolsFor(req()).map((t) => (t as { function: { name: string } }).function.name);
    expect(names).toEqual([
      'claim_number_acknowledged',
      'claim_number_repeat_requested',
      'caller_goodbye_said',
      'caller_transfer_requested',
    ]);
    expect(toolsFor(req({ reason: 'callerGoodbye' }))).toEqual([]);
    expect(toolsFor(req({ reason: 'goodbye' }))).toEqual([]);
  });
});
