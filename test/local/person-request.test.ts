import { asksForPerson } from '../../src/providers/local/person-request.js';

describe('asking for a person', () => {
  it.each([
    'representative',
    'Agent.',
    'operator please',
    'a real person',
    'Can I talk to an agent?',
    'I want to speak with a human',
    "I'd like to speak to a representative, please",
    'let me talk to someone about my claim',
    'Get me a human.',
    'give me an operator now',
    'I need a real person',
    'can you transfer me',
    'connect me to customer service',
    'put me through to a supervisor',
    'is there someone I can talk to',
    'This is useless. Live agent!',
    "I'm not sure, can I talk to someone",
    'talk to a human being',
  ])('hears a request in %j', (text) => {
    expect(asksForPerson(text)).toBe(true);
  });

  it.each([
    "I don't want to talk to an agent",
    'no need for a person, it was March 3rd',
    'the person who hit my car drove off',
    'I spoke to someone yesterday',
    'I need the person who hit me to pay',
    'are you a real person?',
    'twelve hundred dollars',
    'yes that is correct',
    'my agent told me to call',
    '',
  ])('hears no request in %j', (text) => {
    expect(asksForPerson(text)).toBe(false);
  });

  it('never throws on what is not text', () => {
    expect(asksForPerson(undefined)).toBe(false);
    expect(asksForPerson(42)).toBe(false);
    expect(asksForPerson('x'.repeat(100_000))).toBe(false);
  });
});
