/**
 * One 'abort' listener per signal, however many calls wait on it.
 *
 * Host apps often hand one AbortSignal (a request's, a shutdown's) to many concurrent calls.
 * A listener per call on that signal makes Node print MaxListenersExceededWarning past ten
 * and costs a dispatch per call; instead the first subscriber attaches one shared dispatcher,
 * later ones join its set, and the last one to leave detaches it again. Keyed weakly, so a
 * signal nobody references any more takes its dispatcher with it.
 */
interface Dispatcher {
  readonly listeners: Set<() => void>;
  readonly dispatch: () => void;
}

const dispatchers = new WeakMap<AbortSignal, Dispatcher>();

/**
 * Calls `listener` once when `signal` aborts (at once when it already has). Returns the
 * unsubscribe function; call it when the work is over so nothing stays attached.
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  if (signal.aborted) {
    listener();
    return () => {};
  }
  let d = dispatchers.get(signal);
  if (!d) {
    const listeners = new Set<() => void>();
    const dispatch = () => {
      dispatchers.delete(signal);
      for (const l of [...listeners]) {
        try {
          l();
        } catch (e) {
          // As EventTarget does: one failing listener neither stops the others nor is lost.
          queueMicrotask(() => {
            throw e;
          });
        }
      }
      listeners.clear();
    };
    d = { listeners, dispatch };
    dispatchers.set(signal, d);
    signal.addEventListener('abort', dispatch, { once: true });
  }
  // A wrapper per subscription: the same function subscribed twice is two subscriptions.
  const entry = () => listener();
  d.listeners.add(entry);
  return () => {
    const current = dispatchers.get(signal);
    if (!current || !current.listeners.delete(entry) || current.listeners.size > 0) return;
    signal.removeEventListener('abort', current.dispatch);
    dispatchers.delete(signal);
  };
}

/** How many subscriptions wait on `signal` (0 when none): for tests and diagnostics. */
export function abortSubscribers(signal: AbortSignal): number {
  return dispatchers.get(signal)?.listeners.size ?? 0;
}
