/**
 * Formats claim values the way a person says them on the phone. The forms live with the claim
 * machine (`machines/claim/claim-speech.ts`): its refusal reasons use them too, so every voice says
 * a date or an amount the same way.
 */
export { amountForSpeech, dateForSpeech } from '../../../machines/claim/claim-speech.js';
