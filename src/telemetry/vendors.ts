/**
 * Which vendor serves each provider role of one call, as observers see it: the names at the start,
 * the switches the session reports (a TTS that fell back to espeak-ng), and which vendor a failure
 * notice is about (the one that failed, not the fallback that replaced it).
 */
import type { ObservedCall } from '../session/session-types.js';
import type { TurnTiming } from '../metrics/conversation-metrics.js';

/** A provider role. */
export type ProviderRole = 'stt' | 'llm' | 'tts';

/** Label value for a role the call does not have (a typed call has no STT). */
export const NO_VENDOR = 'none';

/** One call's vendors. */
export interface CallVendors {
  /** The vendor serving `role` now. */
  current(role: ProviderRole): string;
  /** The vendor of this turn's TTFB for `role` (the LLM's is the dialogue that answered). */
  ofTurn(role: ProviderRole, timing: TurnTiming): string;
  /** The session switched `role` to `name`. */
  changed(role: ProviderRole, name: string): void;
  /** The vendor a `provider.fallback` notice for `role` is about. */
  failed(role: ProviderRole): string;
}

/**
 * Label-safe form of a name from our own vocabulary (vendor names, end reasons): lower case,
 * `[a-z0-9_+.-]`, at most 40 characters, so a surprise value cannot blow up label cardinality or
 * carry personal data.
 */
export function labelValue(name: string | null | undefined): string {
  if (!name) return NO_VENDOR;
  const v = name
    .toLowerCase()
    .replace(/[^a-z0-9_+.-]/g, '_')
    .slice(0, 40);
  return v || NO_VENDOR;
}

/** Tracks the vendors of one call from its start info. */
export function trackVendors(call: ObservedCall): CallVendors {
  const now: Record<ProviderRole, string> = {
    stt: labelValue(call.vendors.stt),
    llm: labelValue(call.vendors.llm),
    tts: labelValue(call.vendors.tts),
  };
  const before: Partial<Record<ProviderRole, string>> = {};
  return {
    current: (role) => now[role],
    ofTurn: (role, timing) =>
      role === 'llm' && timing.llmProvider ? labelValue(timing.llmProvider) : now[role],
    changed(role, name) {
      before[role] = now[role];
      now[role] = labelValue(name);
    },
    failed(role) {
      const vendor = before[role] ?? now[role];
      delete before[role];
      return vendor;
    },
  };
}
