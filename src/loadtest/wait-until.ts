/**
 * Waiting for a condition that events make true, with a time limit (no polling).
 */

/**
 * Resolves once `check` returns a value, re-checked whenever `subscribe`'s callback fires; rejects
 * after `timeoutMs` saying what it waited for.
 */
export function waitUntil<T>(
  check: () => T | undefined,
  subscribe: (onChange: () => void) => () => void,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const first = check();
  if (first !== undefined) return Promise.resolve(first);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = subscribe(() => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    });
  });
}
