/**
 * Several session observers as one (metrics and traces both follow every call), each shielded:
 * an observer that throws is logged once per call and never reaches the session.
 */
import type { Logger } from 'pino';
import type { CallObservation, SessionObserver } from '../session/session-types.js';

/** Combines observers (see file header); undefined when there are none. */
export function combineObservers(
  observers: (SessionObserver | null | undefined)[],
  logger: Logger,
): SessionObserver | undefined {
  const all = observers.filter((o): o is SessionObserver => Boolean(o));
  if (all.length === 0) return undefined;
  return {
    callStarted(call) {
      let complained = false;
      const guard = (fn: () => void) => {
        try {
          fn();
        } catch (err) {
          if (complained) return;
          complained = true;
          logger.error(
            { conversationId: call.conversationId, err: (err as Error).message },
            'session observer failed',
          );
        }
      };
      const observations: CallObservation[] = [];
      for (const o of all) guard(() => observations.push(o.callStarted(call)));
      return {
        notice: (n) => {
          for (const o of observations) guard(() => o.notice(n));
        },
        providerChanged: (role, name) => {
          for (const o of observations) guard(() => o.providerChanged(role, name));
        },
      };
    },
  };
}
