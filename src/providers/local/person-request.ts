/**
 * Does the caller ask to speak to a person? Read from the words as a speech recognizer writes
 * them ("can I talk to an agent", "representative", "get me a real person", "transfer me",
 * "operator please"). Pure and deterministic; never throws.
 *
 * What counts: a person word (agent, representative, human, operator, someone real...) said on
 * its own, or after a verb of asking (speak / talk to, get / give me, I want / need / would like),
 * "transfer me" / "connect me" / "put me through", or "a real / live person". What does not: the
 * same words negated just before ("I don't need an agent"), a person in the story ("the person who
 * hit my car", "I spoke to someone yesterday"), or a question about the bot ("are you a real
 * person?").
 */

/** The people a caller asks for. */
const PERSON =
  '(?:(?:a |an |the |some |your |one of your )?(?:real |live |actual |human |customer service |claims )?' +
  '(?:agent|representative|rep|human(?: being)?|operator|person|people|someone|somebody|supervisor|manager|adjuster|' +
  'customer service|staff|team member|member of (?:the |your )?(?:staff|team)))';

/**
 * What may follow the person asked for: the end, a courtesy, the reason. Not a clause about them
 * ("the person who hit my car").
 */
const THEN = '(?=$| please| now| right| on | to | about | who can| that can| instead| and | i | because)';

const RULES: readonly RegExp[] = [
  // The whole utterance is the person word: "representative", "an agent please", "operator".
  new RegExp(`^(?:um |uh |yeah |yes |no |okay |ok )?${PERSON}(?: please)?$`),
  // "speak to an agent", "talk with someone", "chat to a person about my claim".
  new RegExp(`\\b(?:speak|talk|chat)(?:ing)? (?:to|with) ${PERSON}${THEN}`),
  // "get me a human", "give me an operator", "find me someone".
  new RegExp(`\\b(?:get|give|find) me ${PERSON}${THEN}`),
  // "I want an agent", "I need a real person", "I'd like a representative".
  new RegExp(`\\b(?:want|need|like|prefer|request) ${PERSON}${THEN}`),
  // "is there someone I can talk to", "somebody to speak with".
  new RegExp(`${PERSON} (?:i can|i could|to) (?:speak|talk)\\b`),
  // "transfer me", "connect me to", "put me through".
  /\b(?:transfer|connect|forward) me\b/,
  /\bput me (?:through|on to|onto)\b/,
  // "is there a real person", "a live agent".
  /\b(?:real|live|actual) (?:person|human|agent|representative|operator|people)\b/,
];

/** Words that, just before the request, turn it down ("not sure" does not). */
const NEGATION = /\b(?:don'?t|doesn'?t|not(?! sure)|no need|never|without)\b/;

/** Questions about the bot itself, not requests for a person. */
const ABOUT_THE_BOT = /\bare you (?:a |an )?(?:real |actual |live )?(?:person|human|robot|bot|machine)\b/;

/** How many words before a match a negation still applies ("I don't want to talk to an agent"). */
const NEGATION_WORDS = 3;

/** Lower case, words only (apostrophes kept), single spaces. */
function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/[^a-z' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** True when the caller asks to speak to a person (see file header). */
export function asksForPerson(text: unknown): boolean {
  if (typeof text !== 'string' || text.length > 2000) return false;
  const line = normalize(text);
  if (line === '' || ABOUT_THE_BOT.test(line)) return false;
  for (const rule of RULES) {
    const m = rule.exec(line);
    if (!m) continue;
    const before = line
      .slice(0, m.index)
      .split(' ')
      .slice(-NEGATION_WORDS - 1)
      .join(' ');
    if (!NEGATION.test(before) && !NEGATION.test(m[0])) return true;
  }
  return false;
}
