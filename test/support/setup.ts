// Test-wide matchers. Tests assert an error's stable `code`, never its message
// wording (messages are for people and may be reworded).
import { expect } from 'vitest';

interface CodeMatchers<R = unknown> {
  /** The function throws (or the promise rejects) with an error whose `code` is `code`. */
  toThrowWithCode(code: string): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any -- vitest's own declaration uses `any`
  interface Assertion<T = any> extends CodeMatchers<T> {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface AsymmetricMatchersContaining extends CodeMatchers {}
}

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
}

expect.extend({
  toThrowWithCode(received: unknown, code: string) {
    const judge = (err: unknown, threw: boolean) => {
      const got = codeOf(err);
      const pass = threw && got === code;
      return {
        pass,
        message: () =>
          threw
            ? `expected error code ${this.isNot ? 'not ' : ''}${code}, got ${String(got)} (${err instanceof Error ? err.message : String(err)})`
            : `expected a throw with code ${code}, but nothing was thrown`,
      };
    };
    if (received instanceof Promise) {
      return received.then(
        () => judge(undefined, false),
        (err: unknown) => judge(err, true),
      );
    }
    if (typeof received !== 'function') {
      return { pass: false, message: () => 'toThrowWithCode expects a function or a promise' };
    }
    try {
      const result: unknown = (received as () => unknown)();
      if (result instanceof Promise) {
        return result.then(
          () => judge(undefined, false),
          (err: unknown) => judge(err, true),
        );
      }
      return judge(undefined, false);
    } catch (err) {
      return judge(err, true);
    }
  },
});
