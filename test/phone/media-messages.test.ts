/**
 * The Media Streams parser on its own: event names that are members of Object.prototype are
 * ordinary unknown events, never a crash or a misrouted schema.
 */
import { parseTwilioMessage } from '../../src/telephony/twilio/media-messages.js';

describe('the Media Streams parser', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', '__defineGetter__'])(
    'ignores an event named %s like any unknown event',
    (event) => {
      expect(parseTwilioMessage(JSON.stringify({ event, streamSid: 'MZ1' }))).toEqual({
        kind: 'ignored',
        event,
      });
    },
  );
});
