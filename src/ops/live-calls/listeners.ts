/**
 * The change listeners of a live-calls tracker or feed: `subscribe` returns the unsubscribe
 * function; `tell` calls every listener, and a listener that throws fails alone (the others, and
 * the call that changed something, go on).
 */
export interface ChangeListeners {
  subscribe(listener: () => void): () => void;
  tell(): void;
  clear(): void;
}

/** See the file header. */
export function createChangeListeners(): ChangeListeners {
  const listeners = new Set<() => void>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    tell() {
      for (const l of listeners) {
        try {
          l();
        } catch {
          /* the subscriber's own failure */
        }
      }
    },
    clear: () => listeners.clear(),
  };
}
