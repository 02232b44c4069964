/**
 * The Twilio transfer desk on its own: the `<Dial>` it posts, the whisper it keeps for the
 * person, the store fallback, a call gone before the redirect, expiry.
 */
import pino from 'pino';
import { createTransferDesk } from '../../src/transports/twilio/transfer-desk.js';
import type { CallRedirect } from '../../src/transports/twilio/rest-client.js';

const XML = '<?xml version="1.0" encoding="UTF-8"?>';
const claim = { claimId: 'CLM-4821-0937', claimDate: null, claimAmount: 1250 };

function setup(answer: 'redirected' | 'already_ended' = 'redirected') {
  const posted: { callSid: string; twiml: string }[] = [];
  const lookups: string[] = [];
  let t = 0;
  const redirect: CallRedirect = {
    redirect: async (callSid, twiml) => {
      posted.push({ callSid, twiml });
      return answer;
    },
  };
  const desk = createTransferDesk({
    number: '+15550100999',
    publicUrl: 'https://bot.example.test/',
    redirect,
    companyName: 'Acme Insurance',
    logger: pino({ level: 'silent' }),
    lookup: async (id) => {
      lookups.push(id);
      return id === 'stored-elsewhere'
        ? { claimId: 'CLM-1111-2222', claimDate: '2026-03-03', claimAmount: null }
        : null;
    },
    ttlMs: 1000,
    now: () => t,
  });
  return { desk, posted, lookups, advance: (ms: number) => (t += ms) };
}

describe('the transfer desk', () => {
  it('posts a <Dial> to the number whose whisper URL names the conversation', async () => {
    const s = setup();
    await s.desk.transfer('CA1', { conversationId: 'conv-1', cause: 'keypad', claim });
    expect(s.posted).toEqual([
      {
        callSid: 'CA1',
        twiml: `${XML}<Response><Dial timeout="30"><Number url="https://bot.example.test/twilio/whisper?conversation=conv-1" method="POST">+15550100999</Number></Dial></Response>`,
      },
    ]);
  });

  it('whispers the claim as it stood at the transfer, without asking the store', async () => {
    const s = setup();
    await s.desk.transfer('CA1', { conversationId: 'conv-1', cause: 'keypad', claim });
    expect(await s.desk.whisperTwiml('conv-1')).toBe(
      `${XML}<Response><Say>Claims call transferred by the Acme Insurance assistant. The caller pressed zero for a person. ` +
        'Claim number C. L. M. 4 8 2 1, 0 9 3 7. Amount claimed: $1,250.00. Still missing: the date of the incident.</Say></Response>',
    );
    expect(s.lookups).toEqual([]);
  });

  it('reads the store for a transfer it did not make, and still whispers when nothing is known', async () => {
    const s = setup();
    expect(await s.desk.whisperTwiml('stored-elsewhere')).toContain(
      'Claim number C. L. M. 1 1 1 1, 2 2 2 2. Date of the incident: March 3, 2026. Still missing: the amount.',
    );
    expect(await s.desk.whisperTwiml('unknown')).toContain('No claim details were found for this call.');
  });

  it('forgets a whisper after its time is up', async () => {
    const s = setup();
    await s.desk.transfer('CA1', { conversationId: 'conv-1', cause: 'caller', claim });
    s.advance(1001);
    expect(await s.desk.whisperTwiml('conv-1')).toContain('No claim details were found');
    expect(s.lookups).toEqual(['conv-1']);
  });

  it('rejects when the call ended before the redirect, and keeps no whisper for it', async () => {
    const s = setup('already_ended');
    await expect(
      s.desk.transfer('CA1', { conversationId: 'conv-1', cause: 'caller', claim }),
    ).rejects.toThrow('the call ended before it could be transferred');
    expect(await s.desk.whisperTwiml('conv-1')).toContain('No claim details were found');
  });
});
