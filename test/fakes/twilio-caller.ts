/**
 * The simulated Twilio caller of the tests and benches: the load tester's (src/loadtest/
 * twilio-caller.ts), which behaves like Twilio on both directions of a Media Stream. One
 * implementation, so the tests exercise the caller users load their deployments with.
 */
export * from '../../src/loadtest/twilio-caller.js';
