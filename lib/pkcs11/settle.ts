/**
 * Runs synchronous work and hands back its result or its error as a promise.
 * Token methods are asynchronous (a real card takes its time), but much of
 * the work behind them is synchronous; this keeps a thrown error from
 * escaping as an exception where callers expect a rejection.
 */
export function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
