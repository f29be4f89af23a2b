/**
 * Runs synchronous work and hands back its result or its error as a promise.
 * Interfaces that are asynchronous because one implementation must wait (a
 * real card, an operator at a prompt) have others whose work is synchronous
 * (a simulated token, an answers file); this keeps a thrown error from
 * escaping as an exception where callers expect a rejection.
 */
export function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
