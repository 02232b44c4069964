/**
 * A short fingerprint of the machines, stored with every conversation so a replay can tell whether
 * it runs the same machines that recorded the call.
 *
 * It covers everything that decides a machine's behaviour: the definitions (states, transitions;
 * and, from the configs, inline guards like `and([...])` and context factories), the implementations
 * (guards, actions, delays, actors: their source text, including what `assign()` wraps and the
 * logic of `fromPromise`/`fromCallback` actors and invoked child machines), and the default values
 * the machines fall back on (call timings, claim limits). Changing a guard, an action or a delay
 * therefore changes the version; the same machines always give the same version.
 *
 * Source text is as the runtime sees it (`Function.prototype.toString` of the transpiled code), so
 * the version is stable for one build/toolchain (tsx in production) but may differ between tsx and
 * the test runner's transpiler: compare versions produced by the same runtime. Code the
 * implementations call in other modules is not covered, except the claim validation functions,
 * which are the guards' real rules.
 */
import { createHash } from 'node:crypto';
import type { AnyStateMachine } from 'xstate';
import { callMachine, DEFAULT_CALL_TIMINGS } from '../../machines/call/call.machine.js';
import {
  claimMachine,
  DEFAULT_MAX_CLAIM_AGE_DAYS,
  DEFAULT_MAX_CLAIM_AMOUNT,
} from '../../machines/claim/claim.machine.js';
import { validateClaimAmount, validateClaimDate } from '../../machines/claim/claim.validation.js';

/** The parts {@link machineVersionOf} fingerprints. */
export interface VersionedMachines {
  claim: AnyStateMachine;
  call: AnyStateMachine;
  /** Default values the machines fall back on when the input does not give them (e.g. timings). */
  defaults: Record<string, unknown>;
  /** Pure helpers the implementations delegate their rules to (hashed by source text). */
  helpers?: Record<string, (...args: never[]) => unknown>;
}

/** The defaults today's machines fall back on. */
export const MACHINE_DEFAULTS: Record<string, unknown> = {
  callTimings: DEFAULT_CALL_TIMINGS,
  maxClaimAmount: DEFAULT_MAX_CLAIM_AMOUNT,
  maxClaimAgeDays: DEFAULT_MAX_CLAIM_AGE_DAYS,
};

/** Collapses whitespace so re-indenting a function does not change the version. */
function sourceOf(fn: object): string {
  return Function.prototype.toString
    .call(fn as () => unknown)
    .replace(/\s+/g, ' ')
    .trim();
}

function isMachine(v: object): v is AnyStateMachine {
  const m = v as Partial<AnyStateMachine>;
  return 'definition' in m && 'implementations' in m && 'config' in m && typeof m.provide === 'function';
}

/**
 * Deterministic text of a value: objects with sorted keys, functions as their source plus their
 * own properties (xstate's `assign`, `and`, `fromCallback` keep what the author wrote there),
 * machines as config + definition + implementations. Cycles are cut, never followed.
 */
export function canonicalText(value: unknown, seen = new WeakSet<object>()): string {
  if (value === undefined) return 'undefined';
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    return JSON.stringify(value) ?? String(value);
  }
  const obj = value as object;
  if (seen.has(obj)) return '"[cycle]"';
  seen.add(obj);
  try {
    if (typeof obj !== 'function' && isMachine(obj)) {
      // The definition as JSON (what state nodes serialize to: walking them would follow their
      // parent/machine links); the config keeps the functions the JSON drops (inline guards,
      // context factories).
      const definition = JSON.stringify(obj.definition);
      return `machine(${canonicalText({ config: obj.config, definition, implementations: obj.implementations }, seen)})`;
    }
    if (Array.isArray(obj)) return `[${obj.map((v) => canonicalText(v, seen)).join(',')}]`;
    const rec = obj as Record<string, unknown>;
    const keys = Object.keys(rec).sort();
    const body = keys.map((k) => `${JSON.stringify(k)}:${canonicalText(rec[k], seen)}`).join(',');
    return typeof obj === 'function' ? `fn(${JSON.stringify(sourceOf(obj))}){${body}}` : `{${body}}`;
  } finally {
    // A value met twice on different branches is fine; only a value inside itself is a cycle.
    seen.delete(obj);
  }
}

/** `claim+call@<12 hex>` for the given machines, defaults and helpers. */
export function machineVersionOf(parts: VersionedMachines): string {
  const text = canonicalText({
    claim: parts.claim,
    call: parts.call,
    defaults: parts.defaults,
    helpers: parts.helpers ?? {},
  });
  return `claim+call@${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

/** The version of today's machines, e.g. `claim+call@3f9a1c0b2d4e`. */
export const machineVersion = machineVersionOf({
  claim: claimMachine,
  call: callMachine,
  defaults: MACHINE_DEFAULTS,
  helpers: { validateClaimAmount, validateClaimDate },
});
